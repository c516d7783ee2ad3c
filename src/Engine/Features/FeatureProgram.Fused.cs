using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace S2CloudMask.Engine.Features;

public sealed partial class FeatureProgram
{
    /// <summary>
    /// One pass for lists made only of <c>band * log(band)</c> (either way round) and
    /// <c>(a - b) / (a + b)</c> of two bands, as every published spectral list is: 64 pixels
    /// at a time, each needed log taken once into registers, every feature written from
    /// there, and any NaN among them noted on the way. The same float32 operations in the
    /// same order as the whole-span passes (Vector512.Log is TensorPrimitives.Log's own
    /// kernel), so the same bits, without the round trips of intermediate planes.
    /// </summary>
    private sealed class Fused
    {
        private const int Tile = 64;
        private const int Vectors = Tile / 16;

        private readonly Feature[] _features;
        private readonly int[] _logBands;

        /// <summary>One more than the highest band read.</summary>
        private readonly int _bandCount;

        private Fused(Feature[] features, int[] logBands)
        {
            _features = features;
            _logBands = logBands;
            _bandCount = 1 + features.Select(f => f.Kind == Kind.NormalizedDifference ? Math.Max(f.A, f.B) : f.A).Concat(logBands).Max();
        }

        /// <summary>The fused form of the features, or null when any of them has another shape.</summary>
        public static Fused? TryCreate(IReadOnlyList<Expr> trees)
        {
            var logBands = new List<int>();
            var features = new Feature[trees.Count];
            for (var f = 0; f < trees.Count; f++)
            {
                switch (trees[f])
                {
                    case BinaryExpr { Op: '*', Left: BandExpr { OfReference: false } x, Right: CallExpr { Function: "log", Args: [BandExpr { OfReference: false } y] } }:
                        features[f] = new Feature(Kind.BandTimesLog, x.Band, Slot(y.Band));
                        break;
                    case BinaryExpr { Op: '*', Left: CallExpr { Function: "log", Args: [BandExpr { OfReference: false } y] }, Right: BandExpr { OfReference: false } x }:
                        features[f] = new Feature(Kind.LogTimesBand, x.Band, Slot(y.Band));
                        break;
                    case BinaryExpr
                    {
                        Op: '/',
                        Left: BinaryExpr { Op: '-', Left: BandExpr { OfReference: false } a, Right: BandExpr { OfReference: false } b },
                        Right: BinaryExpr { Op: '+', Left: BandExpr { OfReference: false } a2, Right: BandExpr { OfReference: false } b2 },
                    }
                    when a.Band == a2.Band && b.Band == b2.Band:
                        features[f] = new Feature(Kind.NormalizedDifference, a.Band, b.Band);
                        break;
                    default:
                        return null;
                }
            }

            return features.Length == 0 ? null : new Fused(features, [.. logBands]);

            int Slot(int band)
            {
                var at = logBands.IndexOf(band);
                if (at < 0)
                {
                    logBands.Add(band);
                    at = logBands.Count - 1;
                }

                return at;
            }
        }

        /// <summary>
        /// Every pixel, <see cref="Tile"/> at a time; the last, partial tile through a padded
        /// copy, so every log is the vector kernel's. Returns whether any feature is NaN.
        /// </summary>
        public unsafe bool Evaluate(ReadOnlySpan<float> obs, int stride, int count, Span<float> features)
        {
            var whole = count - (count % Tile);
            var logs = stackalloc Vector512<float>[_logBands.Length * Vectors];
            var nan = Vector512<float>.Zero;
            fixed (float* o = obs)
            fixed (float* d = features)
            {
                for (var i = 0; i < whole; i += Tile)
                {
                    nan |= RunTile(o + i, stride, d + i, stride, logs);
                }

                var rest = count - whole;
                if (rest > 0)
                {
                    // Bands past the count are padded with 1 (finite features, never NaN).
                    var bands = stackalloc float[_bandCount * Tile];
                    var outputs = stackalloc float[_features.Length * Tile];
                    new Span<float>(bands, _bandCount * Tile).Fill(1f);
                    for (var b = 0; b < _bandCount; b++)
                    {
                        obs.Slice((b * stride) + whole, rest).CopyTo(new Span<float>(bands + (b * Tile), rest));
                    }

                    nan |= RunTile(bands, Tile, outputs, Tile, logs);
                    for (var f = 0; f < _features.Length; f++)
                    {
                        new ReadOnlySpan<float>(outputs + (f * Tile), rest).CopyTo(features.Slice((f * stride) + whole, rest));
                    }
                }
            }

            return nan != Vector512<float>.Zero;
        }

        /// <summary>One tile: band b of pixel i at <c>o[b * stride + i]</c>, feature f to <c>d[f * dstride + i]</c>; returns the NaN lanes.</summary>
        private unsafe Vector512<float> RunTile(float* o, int stride, float* d, int dstride, Vector512<float>* logs)
        {
            var nan = Vector512<float>.Zero;
            for (var l = 0; l < _logBands.Length; l++)
            {
                var band = o + ((long)_logBands[l] * stride);
                for (var v = 0; v < Vectors; v++)
                {
                    logs[(l * Vectors) + v] = Vector512.Log(Vector512.Load(band + (v * 16)));
                }
            }

            for (var f = 0; f < _features.Length; f++)
            {
                var feature = _features[f];
                var a = o + ((long)feature.A * stride);
                var to = d + ((long)f * dstride);
                if (feature.Kind == Kind.NormalizedDifference)
                {
                    var b = o + ((long)feature.B * stride);
                    for (var v = 0; v < Vectors; v++)
                    {
                        var x = Vector512.Load(a + (v * 16));
                        var y = Vector512.Load(b + (v * 16));
                        nan |= Store((x - y) / (x + y), to + (v * 16));
                    }
                }
                else
                {
                    var log = logs + (feature.B * Vectors);
                    for (var v = 0; v < Vectors; v++)
                    {
                        var x = Vector512.Load(a + (v * 16));
                        nan |= Store(feature.Kind == Kind.BandTimesLog ? x * log[v] : log[v] * x, to + (v * 16));
                    }
                }
            }

            return nan;
        }

        /// <summary>Stores the values and returns their NaN lanes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe Vector512<float> Store(Vector512<float> values, float* to)
        {
            Vector512.Store(values, to);
            return ~Vector512.Equals(values, values);
        }

        private enum Kind : byte
        {
            BandTimesLog,
            LogTimesBand,
            NormalizedDifference,
        }

        /// <summary>A feature: A the band multiplied or the first of the difference; B the log slot or the second band.</summary>
        private readonly record struct Feature(Kind Kind, int A, int B);
    }
}
