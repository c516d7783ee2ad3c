using S2CloudMask.Engine.Classification;
using S2CloudMask.Engine.Gdal;
using S2CloudMask.Engine.Geomedian;
using S2CloudMask.Engine.Models;
using S2CloudMask.Engine.Raster;
using S2CloudMask.Engine.Tests.Support;
using Xunit.Abstractions;

namespace S2CloudMask.Engine.Tests.Parity;

/// <summary>The published models in ../shared/models against what the original Python code output.</summary>
public sealed class ParityTests(ITestOutputHelper output)
{
    private static readonly Lazy<Dictionary<string, CloudModel>> Models = new(() =>
        Directory.EnumerateFiles(SharedData.Models, "*.model.json").Select(ModelFile.Load).ToDictionary(m => m.Name));

    private static CloudModel Model(string name)
    {
        SharedData.Require();
        return Models.Value[name];
    }

    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    public void ClearSceneMatchesGolden(string name)
    {
        var model = Model(name);
        var clear = Npy.Read(SharedData.Data("clear-wright-20160101.npy"));
        var p = CloudClassifier.Probability(model, BandImage.FromArray(clear), Scaling.Identity);
        var golden = Npy.Read(SharedData.Golden($"{name}-clear.npy")).AsSpan<float>();
        ParityCheck.AssertWithin(ParityCheck.Compare($"{name} clear", p, golden), output);
    }

    /// <summary>The model, the 30-date stack (DN), the golden geomedian as reference and the model's golden probabilities of the stack.</summary>
    private static (CloudModel Model, BandStack Stack, BandImage Reference, NdArray Golden) StackCase(string name) =>
        (Model(name),
         new BandStack(Npy.Read(SharedData.Data("stack-wright.npy"))),
         BandImage.FromArray(Npy.Read(SharedData.Golden("geomedian-stack.npy"))),
         Npy.Read(SharedData.Golden($"{name}-stack.npy")));

    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    [InlineData("fast-shadow")]
    public void StackMatchesGoldenOnEveryDate(string name)
    {
        var (model, stack, reference, goldenArray) = StackCase(name);
        var golden = goldenArray.AsSpan<float>();
        var (h, w, t) = (stack.Height, stack.Width, stack.Dates);
        var ours = new float[h * w * t];
        var dn = new Scaling(1e-4, 0, null);
        for (var date = 0; date < t; date++)
        {
            var p = CloudClassifier.Probability(model, stack.Date(date), dn, model.NeedsReference ? reference : null);
            for (var i = 0; i < p.Length; i++)
            {
                ours[(i * t) + date] = p[i];
            }
        }

        ParityCheck.AssertWithin(ParityCheck.Compare($"{name} stack (30 dates)", ours, golden), output);
    }

    /// <summary>
    /// The mask path (what <c>POST /mask</c> computes: a single tree cut to the threshold,
    /// the opening on codes) against the golden probabilities' masks on every date: nodata
    /// exactly where golden is NaN, the same codes on at least 99.9 % of pixels.
    /// </summary>
    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    [InlineData("fast-shadow")]
    public void StackMasksMatchGoldenOnEveryDate(string name)
    {
        var (model, stack, reference, goldenArray) = StackCase(name);
        var golden = goldenArray.AsSpan<float>();
        var (h, w, t) = (stack.Height, stack.Width, stack.Dates);
        var mask = new byte[h * w];
        long agree = 0, nodataMismatch = 0, positive = 0;
        for (var date = 0; date < t; date++)
        {
            CloudClassifier.Mask(model, stack.Date(date), new Scaling(1e-4, 0, null), model.NeedsReference ? reference : null, Scaling.Identity, model.Threshold, mask);
            for (var i = 0; i < mask.Length; i++)
            {
                var g = golden[(i * t) + date];
                var expected = float.IsNaN(g) ? CloudClassifier.Nodata : g > model.Threshold ? (byte)1 : (byte)0;
                agree += mask[i] == expected ? 1 : 0;
                nodataMismatch += (mask[i] == CloudClassifier.Nodata) != float.IsNaN(g) ? 1 : 0;
                positive += expected == 1 ? 1 : 0;
            }
        }

        var pixels = (long)h * w * t;
        output.WriteLine($"{name} stack masks: {agree} of {pixels} codes equal ({(double)agree / pixels:P4}), {positive} positive in golden, nodata mismatches {nodataMismatch}");
        Assert.Equal(0, nodataMismatch);
        Assert.True(agree >= ParityCheck.MinFraction * pixels, $"{name}: codes equal on {agree} of {pixels}");
        Assert.True(positive > 0);
    }

    [SharedTheory]
    [InlineData("fast")]
    [InlineData("spectral")]
    public void T31tdhGeoTiffMatchesGolden(string name)
    {
        var model = Model(name);
        using var ds = GdalDataset.Open(SharedData.Data("t31tdh-20150726/stack10.tif"));
        var (w, h, n) = (ds.Width, ds.Height, ds.BandCount);
        var dn = new ushort[n * h * w];
        ds.ReadBands<ushort>([.. Enumerable.Range(1, n)], 0, 0, w, h, dn);
        var image = BandImage.Planar(NdArray.Create(dn, n, h, w).Data, ElementType.UInt16, n, h, w);

        // The reference divides the DN by 10000 and has no nodata value.
        var p = CloudClassifier.Probability(model, image, new Scaling(1e-4, 0, null));
        var golden = Npy.Read(SharedData.Golden($"{name}-t31tdh.npy")).AsSpan<float>();
        ParityCheck.AssertWithin(ParityCheck.Compare($"{name} T31TDH (L1C, GeoTIFF via GDAL)", p, golden), output);
    }

    [SharedFact]
    public void GeomedianMatchesGolden()
    {
        SharedData.Require();
        var stack = new BandStack(Npy.Read(SharedData.Data("stack-wright.npy")));
        var result = GeometricMedian.Compute(stack, new Scaling(1e-4, 0, null));
        var golden = Npy.Read(SharedData.Golden("geomedian-stack.npy")).AsSpan<float>();
        double worst = 0;
        var worstAt = -1;
        for (var i = 0; i < golden.Length; i++)
        {
            var d = Math.Abs((double)result.Values[i] - golden[i]);
            if (d > worst || double.IsNaN(d))
            {
                worst = d;
                worstAt = i;
            }
        }

        output.WriteLine($"geomedian: max |d| = {worst:G3} at element {worstAt}; iterations total {result.TotalIterations}, max {result.MaxIterations}; dates used {result.MinDatesUsed}..{result.MaxDatesUsed}; {result.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(worst <= 1e-4, $"max |d| {worst} at {worstAt}");
    }
}
