using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Tests.Support;
using Xunit.Abstractions;

namespace S2CloudMask.Engine.Tests.Classification;

/// <summary>The behaviours s2cloudmask's own test suite asserts, with the published models.</summary>
public sealed class CloudClassifierTests(ITestOutputHelper output)
{
    private static CloudModel Model(string name)
    {
        SharedData.Require();
        return ModelFile.Load(SharedData.Model(name));
    }

    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    public void ClearSceneHasNoCloudAfterOpening(string name)
    {
        var model = Model(name);
        var clear = BandImage.FromArray(Npy.Read(SharedData.Data("clear-wright-20160101.npy")));
        var p = CloudClassifier.Probability(model, clear, Scaling.Identity);
        var mask = new byte[p.Length];
        CloudClassifier.Mask(p, model.Threshold, mask);
        output.WriteLine($"{name}: max p {p.Max()}, cloud pixels {mask.Count(m => m == 1)}");
        Assert.DoesNotContain((byte)1, mask);
        Assert.DoesNotContain(CloudClassifier.Nodata, mask);
    }

    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    public void NaNPixelComesOutNaN(string name)
    {
        var model = Model(name);
        var array = Npy.Read(SharedData.Data("clear-wright-20160101.npy"));
        var values = array.AsSpan<float>();
        const int pixel = (200 * 565) + 300;
        values[(pixel * 10) + 4] = float.NaN;
        var p = CloudClassifier.Probability(model, BandImage.FromArray(array), Scaling.Identity);
        Assert.True(float.IsNaN(p[pixel]));
        Assert.False(float.IsNaN(p[pixel + 1]));
        Assert.Equal(1, p.Count(float.IsNaN));
        var mask = new byte[p.Length];
        CloudClassifier.Mask(p, model.Threshold, mask);
        Assert.Equal(CloudClassifier.Nodata, mask[pixel]);
    }

    [SharedFact]
    public void NoDataPixelLeavesEveryOtherPixelUnchanged()
    {
        // fast-shadow has no opening, so a nodata pixel may change nothing but itself.
        var model = Model("fast-shadow");
        var stack = new BandStack(Npy.Read(SharedData.Data("stack-wright.npy")));
        var reference = BandImage.FromArray(Npy.Read(SharedData.Golden("geomedian-stack.npy")));
        var dn = new Scaling(1e-4, 0, null);
        var clean = CloudClassifier.Probability(model, stack.Date(5), dn, reference);

        var src = stack.Array.AsSpan<float>();
        var (h, w, nb, nt) = (stack.Height, stack.Width, stack.Bands, stack.Dates);
        var single = new float[h * w * nb];
        for (var i = 0; i < single.Length; i++)
        {
            single[i] = src[(i * nt) + 5];
        }

        const int pixel = 4321;
        single[(pixel * nb) + 3] = float.NaN;
        var holed = CloudClassifier.Probability(model, BandImage.FromArray(NdArray.Create(single, h, w, nb)), dn, reference);
        Assert.True(float.IsNaN(holed[pixel]));
        holed[pixel] = clean[pixel];
        Assert.Equal(clean, holed);
    }

    [SharedTheory]
    [InlineData("fast", false)]
    [InlineData("fast-shadow", true)]
    public void StackGivesSamePerDateResultAsDatesOneByOne(string name, bool withReference)
    {
        var model = Model(name);
        var stack = new BandStack(Npy.Read(SharedData.Data("stack-wright.npy")));
        var reference = withReference ? BandImage.FromArray(Npy.Read(SharedData.Golden("geomedian-stack.npy"))) : null;
        var dn = new Scaling(1e-4, 0, null);
        var all = CloudClassifier.Probability(model, stack, dn, reference);
        var (h, w, nb, nt) = (stack.Height, stack.Width, stack.Bands, stack.Dates);
        var src = stack.Array.AsSpan<float>();
        foreach (var t in new[] { 0, 7, nt - 1 })
        {
            // Copy the date out into its own (y, x, band) array.
            var single = new float[h * w * nb];
            for (var i = 0; i < h * w * nb; i++)
            {
                single[i] = src[(i * nt) + t];
            }

            var p = CloudClassifier.Probability(model, BandImage.FromArray(NdArray.Create(single, h, w, nb)), dn, reference);
            for (var i = 0; i < p.Length; i++)
            {
                Assert.Equal(p[i], all[(i * nt) + t]);
            }
        }
    }

    [SharedFact]
    public void ResultDoesNotDependOnThreadsOrBlocks()
    {
        var model = Model("spectral");
        var clear = BandImage.FromArray(Npy.Read(SharedData.Data("clear-wright-20160101.npy")));
        var a = CloudClassifier.Probability(model, clear, Scaling.Identity, options: new ClassifyOptions { MaxDegreeOfParallelism = 1, BlockRows = 410 });
        var b = CloudClassifier.Probability(model, clear, Scaling.Identity, options: new ClassifyOptions { MaxDegreeOfParallelism = 2, BlockRows = 7, ChunkPixels = 300 });
        Assert.Equal(a, b);
    }

    [SharedFact]
    public void SpectralTemporalModelWithoutReferenceIsAnInputError()
    {
        var model = Model("fast-shadow");
        Assert.True(model.NeedsReference);
        var img = BandImage.FromArray(NdArray.Zeros(ElementType.Float32, 4, 4, 10));
        var e = Assert.Throws<InvalidInputException>(() => CloudClassifier.Probability(model, img, Scaling.Identity));
        Assert.Equal("missing-reference", e.Code);
    }

    [SharedFact]
    public void WrongBandCountIsAnInputError()
    {
        var model = Model("fast");
        var img = BandImage.FromArray(NdArray.Zeros(ElementType.Float32, 4, 4, 13));
        var e = Assert.Throws<InvalidInputException>(() => CloudClassifier.Probability(model, img, Scaling.Identity));
        Assert.Equal("wrong-band-count", e.Code);
        Assert.Contains("13 bands", e.Message, StringComparison.Ordinal);
    }

    [SharedTheory]
    [InlineData("spectral", 37)]
    [InlineData("fast", 1)]
    [InlineData("fast", 410)]
    public void StreamingInRowBlocksGivesTheWholeImageResult(string name, int blockRows)
    {
        var model = Model(name);
        var clear = BandImage.FromArray(Npy.Read(SharedData.Data("clear-wright-20160101.npy")));
        var whole = CloudClassifier.Probability(model, clear, Scaling.Identity);
        var streamed = new float[whole.Length];
        var next = 0;
        StreamingClassifier.Run(model, new BandImageRows(clear), Scaling.Identity, null, blockRows, (row, p) =>
        {
            Assert.Equal(next, row);
            p.Span.CopyTo(streamed.AsSpan(row * clear.Width));
            next = row + (p.Length / clear.Width);
        });
        Assert.Equal(clear.Height, next);
        Assert.Equal(whole, streamed);
    }

    /// <summary>
    /// The mask path (the tree cut to the threshold, codes made block by block) against the
    /// codes of the probabilities, on overcast, partly cloudy and clear dates of the stack
    /// with nodata and undefined pixels, at several thresholds, blocks and threads; and
    /// streamed in row blocks.
    /// </summary>
    [SharedTheory]
    [InlineData("fast", 0.5f)]
    [InlineData("fast", 0.2f)]
    [InlineData("fast", 0.9f)]
    [InlineData("fast-shadow", 0.5f)]
    [InlineData("fast-shadow", 0.1f)]
    [InlineData("spectral", 0.5f)]
    public void MaskPathGivesTheCodesOfTheProbabilities(string name, float threshold)
    {
        var model = Model(name);
        var stack = new BandStack(Npy.Read(SharedData.Data("stack-wright.npy")));
        var reference = model.NeedsReference ? BandImage.FromArray(Npy.Read(SharedData.Golden("geomedian-stack.npy"))) : null;
        var dn = new Scaling(1e-4, 0, 0);
        var (h, w, nb, nt) = (stack.Height, stack.Width, stack.Bands, stack.Dates);
        var src = stack.Array.AsSpan<float>();
        var options = new[]
        {
            new ClassifyOptions(),
            new ClassifyOptions { MaxDegreeOfParallelism = 2, BlockRows = 7, ChunkPixels = 300 },
            new ClassifyOptions { MaxDegreeOfParallelism = 1, BlockRows = 100 },
        };
        var positives = 0;
        foreach (var t in new[] { 0, 4, 21, 26 })
        {
            var single = new float[h * w * nb];
            for (var i = 0; i < single.Length; i++)
            {
                single[i] = src[(i * nt) + t];
            }

            // A nodata pixel (DN 0 in band 0), an undefined feature (B12 < 0: its log), a NaN band.
            single[(4321 * nb) + 0] = 0;
            single[(1234 * nb) + 9] = -5;
            single[(777 * nb) + 3] = float.NaN;
            var image = BandImage.FromArray(NdArray.Create(single, h, w, nb));
            var expected = new byte[h * w];
            CloudClassifier.Mask(CloudClassifier.Probability(model, image, dn, reference), threshold, expected);
            Assert.Equal(CloudClassifier.Nodata, expected[4321]);
            positives += expected.Count(c => c == 1);
            foreach (var o in options)
            {
                var mask = new byte[h * w];
                CloudClassifier.Mask(model, image, dn, reference, Scaling.Identity, threshold, mask, o);
                Assert.Equal(expected, mask);
            }

            var streamed = new byte[h * w];
            StreamingClassifier.RunMask(model, new BandImageRows(image), dn, reference is null ? null : new BandImageRows(reference), 13, threshold, (row, m) =>
                m.Span.CopyTo(streamed.AsSpan(row * w)));
            Assert.Equal(expected, streamed);
        }

        output.WriteLine($"{name} at {threshold}: {positives} positive pixels over four dates");
        Assert.True(positives > 40, "the dates should hold cloud or shadow to compare");
    }

    [Fact]
    public void MaskMarksNoDataAndUsesStrictThreshold()
    {
        var mask = new byte[4];
        CloudClassifier.Mask([0.5f, 0.51f, float.NaN, 0f], 0.5f, mask);
        Assert.Equal([0, 1, 255, 0], mask);
    }

    /// <summary>
    /// The vector mask (32 pixels a step) and the counts against the per-pixel rule, with NaN,
    /// values on the threshold, signed zeros and infinities, for lengths around the vector
    /// width; the bytes past the length stay untouched.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    [InlineData(4099)]
    public void VectorMaskAndCountsFollowThePerPixelRule(int n)
    {
        var rng = new Random(n);
        const float Threshold = 0.5f;
        var p = new float[n];
        for (var i = 0; i < n; i++)
        {
            p[i] = rng.Next(8) switch
            {
                0 => float.NaN,
                1 => Threshold,
                2 => -0f,
                3 => float.PositiveInfinity,
                4 => float.NegativeInfinity,
                _ => (float)rng.NextDouble(),
            };
        }

        var mask = new byte[n + 3];
        mask.AsSpan().Fill(7);
        CloudClassifier.Mask(p, Threshold, mask.AsSpan(0, n));
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(float.IsNaN(p[i]) ? CloudClassifier.Nodata : p[i] > Threshold ? (byte)1 : (byte)0, mask[i]);
        }

        Assert.Equal([7, 7, 7], mask[n..]);

        // Classes: shadow codes mixed in.
        var codes = mask[..n].Select((c, i) => c == 0 && i % 3 == 0 ? (byte)2 : c).ToArray();
        var counts = CloudClassifier.Count(codes);
        Assert.Equal(codes.Count(c => c != CloudClassifier.Nodata), counts.Valid);
        Assert.Equal(codes.Count(c => c == 1), counts.Cloud);
        Assert.Equal(codes.Count(c => c == 2), counts.Shadow);
    }
}
