using System.Runtime.Intrinsics;
using S2CloudMask.Engine.Features;

namespace S2CloudMask.Engine.Tests.Features;

public sealed class FeatureProgramTests
{
    // Two pixels, ten bands; band b of pixel i = 0.05 * (b + 1) + 0.01 * i.
    private const int Pixels = 11;

    private static float[] Planes(float shift = 0)
    {
        var p = new float[10 * Pixels];
        for (var b = 0; b < 10; b++)
        {
            for (var i = 0; i < Pixels; i++)
            {
                p[(b * Pixels) + i] = (0.05f * (b + 1)) + (0.01f * i) + shift;
            }
        }

        return p;
    }

    [Fact]
    public void EvaluatesPublishedExpressionsInFloat32()
    {
        string[] exprs = ["B03*log(B12)", "(B04-B11)/(B04+B11)", "-B02 + 2*B03 - 1/B04", "3", "B8A"];
        var program = FeatureProgram.Compile(exprs);
        var obs = Planes();
        var features = new float[exprs.Length * Pixels];
        program.Evaluate(obs, [], Pixels, Pixels, features, new float[program.ScratchLength(Pixels)]);
        for (var i = 0; i < Pixels; i++)
        {
            float B(int b) => obs[(b * Pixels) + i];
            Assert.Equal(B(1) * MathF.Log(B(9)), features[i], 6);
            Assert.Equal((B(2) - B(8)) / (B(2) + B(8)), features[Pixels + i]);
            Assert.Equal(-B(0) + (2 * B(1)) - (1 / B(2)), features[(2 * Pixels) + i], 6);
            Assert.Equal(3f, features[(3 * Pixels) + i]);
            Assert.Equal(B(7), features[(4 * Pixels) + i]);
        }
    }

    [Fact]
    public void SpectralTemporalFunctionsMatchTheirDefinitions()
    {
        string[] exprs = ["braycurtis(obs, ref)", "nldr(obs, ref, B02, B04)", "euclidean(obs, ref)", "cosine(obs, ref)", "B04 - ref.B04"];
        var program = FeatureProgram.Compile(exprs);
        Assert.True(program.UsesReference);
        var obs = Planes();
        var reference = Planes(0.02f);
        var features = new float[exprs.Length * Pixels];
        program.Evaluate(obs, reference, Pixels, Pixels, features, new float[program.ScratchLength(Pixels)]);
        for (var i = 0; i < Pixels; i++)
        {
            double num = 0, den = 0, sq = 0, xy = 0, xx = 0, yy = 0;
            for (var b = 0; b < 10; b++)
            {
                double x = obs[(b * Pixels) + i], y = reference[(b * Pixels) + i];
                num += Math.Abs(x - y);
                den += Math.Abs(x + y);
                sq += (x - y) * (x - y);
                xy += x * y;
                xx += x * x;
                yy += y * y;
            }

            static double G(double a, double b) => ((2 * ((a * a) + (b * b))) + (1.5 * b) + (0.5 * a)) / (a + b + 0.5);
            double O(int b) => obs[(b * Pixels) + i];
            double R(int b) => reference[(b * Pixels) + i];
            Assert.Equal(num / den, features[i], 5);
            Assert.Equal(G(O(0), O(2)) - G(R(0), R(2)), features[Pixels + i], 5);
            Assert.Equal(Math.Sqrt(sq), features[(2 * Pixels) + i], 5);
            Assert.Equal(1 - (xy / Math.Sqrt(xx * yy)), features[(3 * Pixels) + i], 5);
            Assert.Equal(O(2) - R(2), features[(4 * Pixels) + i], 6);
        }
    }

    /// <summary>
    /// Band counts below 8, of 8..15 (the register path) and above; values spread over
    /// several orders of magnitude so a different summation order would show in the last bits.
    /// </summary>
    [Theory]
    [InlineData(10)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(20)]
    public void VectorKernelsEqualScalarTwinsBitForBit(int bands)
    {
        var rng = new Random(42 + bands);
        const int n = 203;
        var x = new float[Math.Max(10, bands) * n];
        var y = new float[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)(rng.NextDouble() * Math.Pow(10, rng.Next(-3, 4)));
            y[i] = (float)(rng.NextDouble() * Math.Pow(10, rng.Next(-3, 4)));
        }

        var v = new float[n];
        var s = new float[n];
        SpectralKernels.BrayCurtis(x, y, bands, n, v);
        SpectralKernels.BrayCurtisScalar(x, y, bands, n, s);
        Assert.Equal(s, v);
        SpectralKernels.Nldr(x.AsSpan(0, n), x.AsSpan(n, n), y.AsSpan(0, n), y.AsSpan(n, n), v);
        SpectralKernels.NldrScalar(x.AsSpan(0, n), x.AsSpan(n, n), y.AsSpan(0, n), y.AsSpan(n, n), s);
        Assert.Equal(s, v);
    }

    [Fact]
    public void PairwiseSumFollowsNumpyOrder()
    {
        // Ten values whose float32 sum depends on the order: numpy's order gives this value.
        float[] a = [1e8f, 1f, -1e8f, 1f, 3f, 5f, 7f, 11f, 13f, 17f];
        var numpyOrder = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
        numpyOrder += a[8];
        numpyOrder += a[9];
        Assert.Equal(numpyOrder, SpectralKernels.PairwiseSum(a));
    }

    [Fact]
    public void RepeatedSubexpressionsAreComputedOnceWithIdenticalResults()
    {
        // The published fast-shadow list: log(B11) and log(B12) recur, nldr pairs share bands.
        string[] exprs =
        [
            "B04*log(B12)", "(B04-B11)/(B04+B11)", "B05*log(B12)", "(B05-B11)/(B05+B11)", "B05*log(B11)",
            "B04*log(B11)", "B03*log(B12)", "B03*log(B11)", "B02*log(B12)", "braycurtis(obs, ref)",
            "nldr(obs, ref, B02, B04)", "nldr(obs, ref, B02, B12)", "log(B12)", "-log(B11) + log(B12)",
        ];
        var together = FeatureProgram.Compile(exprs);
        var obs = Planes();
        var reference = Planes(0.03f);
        var all = new float[exprs.Length * Pixels];
        together.Evaluate(obs, reference, Pixels, Pixels, all, new float[together.ScratchLength(Pixels)]);
        for (var f = 0; f < exprs.Length; f++)
        {
            var alone = FeatureProgram.Compile([exprs[f]]);
            var one = new float[Pixels];
            alone.Evaluate(obs, reference, Pixels, Pixels, one, new float[Math.Max(1, alone.ScratchLength(Pixels))]);
            Assert.Equal(one, all.AsSpan(f * Pixels, Pixels).ToArray());
        }
    }

    /// <summary>
    /// Normalised differences of two bands take one fused pass: the same bits as the three
    /// operations written out (vector lengths and a scalar tail; signs, zeros, 0/0), and the
    /// same as a form the fusion does not take.
    /// </summary>
    [Fact]
    public void NormalizedDifferencesMatchTheirThreeOperations()
    {
        const int N = 103;
        var rng = new Random(5);
        var obs = new float[10 * N];
        for (var i = 0; i < obs.Length; i++)
        {
            obs[i] = rng.Next(8) switch
            {
                0 => 0f,
                1 => -0f,
                2 => -(float)rng.NextDouble(),
                _ => (float)rng.NextDouble(),
            };
        }

        obs[(2 * N) + 7] = obs[(8 * N) + 7] = 0; // 0 / 0
        string[] exprs = ["(B04-B11)/(B04+B11)", "(B04-B11)/(B04+B11)*1", "(B12-B02)/(B12+B02)"];
        var program = FeatureProgram.Compile(exprs);
        var features = new float[exprs.Length * N];
        program.Evaluate(obs, [], N, N, features, new float[Math.Max(1, program.ScratchLength(N))]);
        for (var i = 0; i < N; i++)
        {
            float B(int b) => obs[(b * N) + i];
            var nd = (B(2) - B(8)) / (B(2) + B(8));
            Assert.Equal(BitConverter.SingleToInt32Bits(nd), BitConverter.SingleToInt32Bits(features[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(nd * 1), BitConverter.SingleToInt32Bits(features[N + i]));
            Assert.Equal((B(9) - B(0)) / (B(9) + B(0)), features[(2 * N) + i]);
        }
    }

    /// <summary>
    /// EvaluateAndCheck writes what Evaluate writes and reports NaN exactly when some feature
    /// is NaN, wherever it is: features ending in a checked product or normalised difference,
    /// and others (a log, a sum) that are scanned; tails past the vectors included.
    /// </summary>
    [Theory]
    [InlineData(2048, -1, false)]
    [InlineData(2048, 5, false)]
    [InlineData(2048, 2047, false)]
    [InlineData(130, 129, false)]
    [InlineData(130, 64, false)]
    [InlineData(50, -1, false)]
    [InlineData(50, 3, false)]
    [InlineData(2048, -1, true)]
    [InlineData(131, -1, true)]
    [InlineData(5, -1, true)]
    [InlineData(2048, 1000, false, true)]
    [InlineData(130, 129, false, true)]
    public void CheckedEvaluationReportsNaNExactly(int n, int nanAt, bool wild, bool zeroOverZero = false)
    {
        string[][] lists =
        [
            ["B03*log(B12)", "log(B11)*B05", "(B05-B11)/(B05+B11)", "B02*log(B11)", "(B04-B11)/(B04+B11)", "B04*log(B12)"],
            ["log(B12)", "B02 + B03"],
        ];
        foreach (var exprs in lists)
        {
            var program = FeatureProgram.Compile(exprs);
            var stride = n + 3;
            var rng = new Random(n + nanAt);
            var obs = new float[10 * stride];
            for (var i = 0; i < obs.Length; i++)
            {
                // Wild: zeros of both signs, negatives and infinities (logs of -inf and NaN,
                // inf / inf); else positive, finite values: no feature is NaN.
                obs[i] = !wild ? 0.01f + (float)rng.NextDouble() : rng.Next(20) switch
                {
                    0 => 0f,
                    1 => -0f,
                    2 => -(float)rng.NextDouble(),
                    3 => float.PositiveInfinity,
                    _ => (float)rng.NextDouble(),
                };
            }

            if (nanAt >= 0 && zeroOverZero)
            {
                // B04 = B11 = 0: only (B04-B11)/(B04+B11) is NaN (0 / 0); log(B11) * B05 is -inf.
                obs[(2 * stride) + nanAt] = obs[(8 * stride) + nanAt] = 0;
            }
            else if (nanAt >= 0)
            {
                obs[(1 * stride) + nanAt] = float.NaN; // B03: read by a product in the first list, a sum in the second
            }

            var plain = new float[exprs.Length * stride];
            var checkedOut = new float[exprs.Length * stride];
            var scratch = new float[Math.Max(1, program.ScratchLength(stride))];
            program.Evaluate(obs, [], stride, n, plain, scratch);
            var reported = program.EvaluateAndCheck(obs, [], stride, n, checkedOut, scratch);
            Assert.Equal(plain.Select(BitConverter.SingleToInt32Bits), checkedOut.Select(BitConverter.SingleToInt32Bits));

            var anyNaN = Enumerable.Range(0, exprs.Length).Any(f => plain.AsSpan(f * stride, n).ToArray().Any(float.IsNaN));
            Assert.Equal(anyNaN, reported);
            Assert.Equal(wild || (nanAt >= 0 && (exprs == lists[0] || !zeroOverZero)), anyNaN);
        }
    }

    /// <summary>
    /// The fused kernel (one loop over eight-pixel vectors, compiled per program) writes what
    /// the plane path writes, bit for bit, and reports NaN alike: every operation, constants on
    /// either side, repeated subexpressions, distances over 3, 10, 20 and 150 bands (NumPy's
    /// pairwise order below 8, from 8 to 15, up to 128 and in halves beyond), on values with
    /// zeros of both signs, negatives, infinities, NaN and subnormals (a NaN may carry another
    /// sign or payload); a single vector, whole vectors and a tail; kernels of 256-bit and of
    /// 512-bit vectors (the latter as two halves where AVX-512 does not run), and of the
    /// default width.
    /// </summary>
    [Theory]
    [MemberData(nameof(FusedCases))]
    public void FusedKernelMatchesThePlanePathBitForBit(int bandCount, int n, int width)
    {
        var bands = Enumerable.Range(0, bandCount).Select(b => b < 10 ? SpectralBands.Names[b] : $"X{b}").ToArray();
        var (p, q, r) = (bands[0], bands[1], bands[2]);
        string[] exprs =
        [
            $"{q}*log({r})", $"({p}-{r})/({p}+{r})", $"-{p} + 2*{q} - 1/{r}", "3", p, $"exp({p}) - sqrt({q})", $"abs({p} - ref.{p})",
            $"{q}*log({r}) / log({p})", $"(1 - {p}) * (2 / {q})", $"-log({r})", "braycurtis(obs, ref)", "cosine(ref, obs)",
            "euclidean(obs, ref)", $"nldr(obs, ref, {p}, {r})", $"nldr(ref, obs, {q}, {p})", "braycurtis(ref, ref) + 1",
            $"{p}*log({r}) - ref.{q}*log(ref.{r})", $"sqrt(abs({q})) * exp(-{r})", $"1 / -{p}",
        ];
        var program = FeatureProgram.Compile(exprs, bands);
        try
        {
            // The kernel is built at the first evaluation or look, at the width then set.
            FeatureProgram.FusedWidth = width;
            var bits = width != 0 ? width : Vector512.IsHardwareAccelerated ? 512 : 256;
            Assert.Equal(Vector256.IsHardwareAccelerated ? bits / 32 : 0, program.Prepare());
            Assert.Equal(program.Prepare(), program.FusedLanes);
        }
        finally
        {
            FeatureProgram.FusedWidth = 0;
        }

        var stride = n + 3;
        var rng = new Random((bandCount * 10000) + n);
        float Value() => rng.Next(24) switch
        {
            0 => 0f,
            1 => -0f,
            2 => -(float)rng.NextDouble(),
            3 => float.PositiveInfinity,
            4 => float.NaN,
            5 => 1e-40f,
            6 => (float)(rng.NextDouble() * 1e6),
            _ => (float)rng.NextDouble(),
        };
        var obs = Enumerable.Range(0, bandCount * stride).Select(_ => Value()).ToArray();
        var reference = Enumerable.Range(0, bandCount * stride).Select(_ => Value()).ToArray();

        // Clean values as well: a NaN anywhere would make every NaN report true.
        foreach (var wild in new[] { true, false })
        {
            if (!wild)
            {
                obs = obs.Select(_ => 0.01f + (float)rng.NextDouble()).ToArray();
                reference = reference.Select(_ => 0.01f + (float)rng.NextDouble()).ToArray();
            }

            var fused = new float[exprs.Length * stride];
            var planes = new float[exprs.Length * stride];
            var scratch = new float[Math.Max(1, program.ScratchLength(stride))];
            var fusedNaN = program.EvaluateAndCheck(obs, reference, stride, n, fused, scratch);
            bool planeNaN;
            try
            {
                FeatureProgram.UseFused = false;
                planeNaN = program.EvaluateAndCheck(obs, reference, stride, n, planes, scratch);
            }
            finally
            {
                FeatureProgram.UseFused = true;
            }

            for (var f = 0; f < exprs.Length; f++)
            {
                for (var i = 0; i < n; i++)
                {
                    // Any NaN stands for any other: which of two NaN operands an addition
                    // passes on depends on the order the JIT puts them in, and a NaN feature
                    // only ever makes the pixel undefined.
                    var (a, b) = (fused[(f * stride) + i], planes[(f * stride) + i]);
                    Assert.True(
                        BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || (float.IsNaN(a) && float.IsNaN(b)),
                        $"{exprs[f]} at pixel {i} of {n}: fused {a} ({BitConverter.SingleToInt32Bits(a):X8}), planes {b} ({BitConverter.SingleToInt32Bits(b):X8})");
                }

                // Nothing written past the pixels asked for.
                Assert.All(fused.AsSpan((f * stride) + n, stride - n).ToArray(), v => Assert.Equal(0f, v));
            }

            Assert.Equal(planeNaN, fusedNaN);
            Assert.Equal(wild, fusedNaN);
        }
    }

    /// <summary>(bands, pixels, vector width) for <see cref="FusedKernelMatchesThePlanePathBitForBit"/>: each width over the same shapes.</summary>
    public static TheoryData<int, int, int> FusedCases()
    {
        var cases = new TheoryData<int, int, int> { { 10, 4101, 0 } };
        foreach (var width in new[] { 256, 512 })
        {
            foreach (var (bandCount, n) in new[] { (10, width / 32), (10, 21), (10, 4101), (3, 37), (20, 64), (150, 24) })
            {
                cases.Add(bandCount, n, width);
            }
        }

        return cases;
    }

    /// <summary>
    /// The fused kernel tests its features for NaN two a compare: a NaN in any one of them is
    /// reported, the first or second of a pair or the last one left unpaired, in any lane, at
    /// both widths; none when there is none.
    /// </summary>
    [Theory]
    [InlineData(256)]
    [InlineData(512)]
    public void FusedKernelReportsANaNInAnySingleFeature(int width)
    {
        // Feature f reads band f alone, so a NaN in band f makes feature f NaN and no other.
        string[] exprs = ["B02*2", "B03*2", "B04*2", "B05*2", "B06*2"];
        var program = FeatureProgram.Compile(exprs);
        try
        {
            FeatureProgram.FusedWidth = width;
            Assert.Equal(Vector256.IsHardwareAccelerated ? width / 32 : 0, program.Prepare());
        }
        finally
        {
            FeatureProgram.FusedWidth = 0;
        }

        const int n = 64;
        var obs = Enumerable.Range(0, 10 * n).Select(i => 0.01f + (i % 97 / 100f)).ToArray();
        var features = new float[exprs.Length * n];
        var scratch = new float[Math.Max(1, program.ScratchLength(n))];
        Assert.False(program.EvaluateAndCheck(obs, [], n, n, features, scratch));
        for (var f = 0; f < exprs.Length; f++)
        {
            foreach (var lane in new[] { 0, 7, 13, 63 })
            {
                var bad = (float[])obs.Clone();
                bad[(f * n) + lane] = float.NaN;
                Assert.True(program.EvaluateAndCheck(bad, [], n, n, features, scratch), $"NaN in feature {f}, pixel {lane}");
            }
        }
    }

    [Fact]
    public void FusedKernelsWithInlineLogsGiveTheLibraryKernelsBits()
    {
        if (!InlineLog.IsSupported)
        {
            return;
        }

        // The published lists' logarithms of bands and a logarithm of an expression, over
        // reflectances and over values that take every path (zero, negative, NaN, infinite).
        string[] exprs = ["B03*log(B12)", "B05*log(B11)", "log(B02 + B03) - log(B8A)", "(B04-B11)/(B04+B11)"];
        const int stride = 1000;
        const int n = 997;
        var inline = FeatureProgram.Compile(exprs);
        var library = FeatureProgram.Compile(exprs);
        try
        {
            // 256-bit kernels (the inline logarithm's width) on any machine; the kernel is
            // built at the first look, with the switches then set.
            FeatureProgram.FusedWidth = 256;
            Assert.Equal(8, inline.Prepare());
            FeatureProgram.UseInlineLog = false;
            Assert.Equal(8, library.Prepare());
            Assert.True(inline.FusedInlineLogs);
            Assert.False(library.FusedInlineLogs);
        }
        finally
        {
            FeatureProgram.UseInlineLog = true;
            FeatureProgram.FusedWidth = 0;
        }

        var rng = new Random(5);
        foreach (var wild in new[] { false, true })
        {
            var obs = new float[10 * stride];
            for (var i = 0; i < obs.Length; i++)
            {
                obs[i] = wild && rng.Next(8) == 0
                    ? rng.Next(4) switch { 0 => 0f, 1 => -(float)rng.NextDouble(), 2 => float.NaN, _ => float.PositiveInfinity }
                    : (float)rng.NextDouble() * 1.2f;
            }

            var a = new float[exprs.Length * stride];
            var b = new float[exprs.Length * stride];
            var scratch = new float[Math.Max(1, inline.ScratchLength(stride))];
            Assert.Equal(
                library.EvaluateAndCheck(obs, default, stride, n, b, scratch),
                inline.EvaluateAndCheck(obs, default, stride, n, a, scratch));
            for (var i = 0; i < a.Length; i++)
            {
                // Any NaN stands for any other (see above).
                Assert.True(
                    BitConverter.SingleToUInt32Bits(a[i]) == BitConverter.SingleToUInt32Bits(b[i]) || (float.IsNaN(a[i]) && float.IsNaN(b[i])),
                    $"{exprs[i / stride]} at pixel {i % stride}: inline {a[i]}, library {b[i]}");
            }
        }
    }

    [Fact]
    public void ScratchRegistersAreReusedAcrossDeepExpressions()
    {
        var program = FeatureProgram.Compile(["((B02+B03)*(B04+B05))/((B06+B07)*(B08+B8A)) - log(B11)*log(B12)"]);
        Assert.InRange(program.RegisterCount, 1, 4);
    }
}
