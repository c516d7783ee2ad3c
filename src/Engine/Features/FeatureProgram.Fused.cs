using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace S2CloudMask.Engine.Features;

/// <summary>
/// The whole program as one loop: the compiled operations (<see cref="Op"/>) turned into an
/// expression tree over vectors of 8 pixels (16 with AVX-512) and compiled to machine code
/// once per program, at its first evaluation, so each band is loaded once, every
/// intermediate stays in a register and each feature is stored once, where the plane path
/// makes one pass over memory per operation.
/// <para>
/// Why: on an AMD EPYC (Zen 3), one thread, the published spectral model's nine features of
/// 2,048 pixels in the classifier's plane layout took 7.1-8.0 us against 8.7-10.7 us as
/// passes over planes (BenchmarkDotNet, <c>FeatureBenchmarks</c>, two runs), and <c>fast</c>'s
/// eleven features 2.8-4.1 against 4.1-6.1 ns per pixel in the classifier (<c>stages</c>,
/// four alternating rounds). The two logarithms were then most of what was left, as
/// <see cref="Vector256.Log(Vector256{float})"/> is a call per vector; 256-bit kernels now
/// take them inline (<see cref="InlineLog"/>, the same bits).
/// </para>
/// <para>
/// The same float32 operations in the same order, lane by lane, as the plane path: the
/// logarithm and exponential are <see cref="Vector256.Log(Vector256{float})"/> (or
/// <see cref="InlineLog"/>, its bits) and <see cref="Vector256.Exp(Vector256{float})"/>,
/// which TensorPrimitives calls itself; the
/// distances sum over bands in NumPy's pairwise order (<see cref="SpectralKernels"/>);
/// square roots are correctly rounded either way. Tests hold both paths to the same bits.
/// </para>
/// </summary>
public sealed partial class FeatureProgram
{
    /// <summary>
    /// Features of pixels [0, count) (a multiple of the vector's lanes), planes
    /// <paramref name="stride"/> floats apart from each reference; whether any feature is NaN.
    /// </summary>
    private delegate bool FusedKernel(ref float obs, ref float reference, ref float features, long stride, long count);

    /// <summary>A fused kernel, the pixels its vectors hold, and whether its logarithms are inline (<see cref="InlineLog"/>).</summary>
    private sealed record Fused(FusedKernel Kernel, int Lanes, bool InlineLogs);

    /// <summary>On by default; tests and benchmarks switch it off to compare with the plane path.</summary>
    internal static bool UseFused { get; set; } = true;

    /// <summary>
    /// Whether 256-bit kernels built from then on take their logarithms inline
    /// (<see cref="InlineLog"/>, where it runs) rather than by calling
    /// <see cref="Vector256.Log(Vector256{float})"/>: the same values; on by default,
    /// benchmarks switch it off to compare.
    /// </summary>
    internal static bool UseInlineLog { get; set; } = true;

    /// <summary>
    /// The vector width, in bits, of the kernels built from then on: 0 (the default) for
    /// 512 where AVX-512 runs, else 256; 256 or 512 for that width anywhere. Tests build both:
    /// without AVX-512, Vector512 runs as two 256-bit halves, the same arithmetic.
    /// </summary>
    internal static int FusedWidth { get; set; }

    /// <summary>The pixels a vector of this program's fused kernel holds: 8 or 16; 0 without one (no run-time code, no vectors).</summary>
    internal int FusedLanes => _fused.Value?.Lanes ?? 0;

    /// <summary>Whether the fused kernel takes its logarithms inline (tests check which one they compare).</summary>
    internal bool FusedInlineLogs => _fused.Value?.InlineLogs ?? false;

    /// <summary>
    /// Builds the fused kernel now instead of at the first evaluation (2-9 ms a program, about
    /// 50 the first time in a process), so that no request waits for it; returns the pixels a
    /// vector of it holds (8 or 16), or 0 where the program runs as passes over planes.
    /// </summary>
    public int Prepare() => FusedLanes;

    /// <summary>
    /// Runs the fused kernel over the vectors of pixels [0, count) and, for a tail, over the
    /// last vector's worth of pixels again (the same values, written twice); false where it
    /// does not run (switched off, no kernel, fewer pixels than a vector holds).
    /// </summary>
    private bool TryFused(ReadOnlySpan<float> obs, ReadOnlySpan<float> reference, int stride, int count, Span<float> features, out bool nan)
    {
        nan = false;
        if (!UseFused || _fused.Value is not { } fused || count < fused.Lanes)
        {
            return false;
        }

        var (kernel, lanes, _) = fused;
        ref var o = ref MemoryMarshal.GetReference(obs);
        ref var r = ref UsesReference ? ref MemoryMarshal.GetReference(reference) : ref o;
        ref var f = ref MemoryMarshal.GetReference(features);
        var whole = count & ~(lanes - 1);
        nan = kernel(ref o, ref r, ref f, stride, whole);
        if (whole < count)
        {
            var back = count - lanes;
            nan |= kernel(ref Unsafe.Add(ref o, back), ref Unsafe.Add(ref r, back), ref Unsafe.Add(ref f, back), stride, lanes);
        }

        return true;
    }

    /// <summary>The fused kernel of <paramref name="ops"/>, or null where code is not compiled at run time or vectors are not accelerated.</summary>
    private static Fused? CompileFused(Op[][] ops, int bandCount)
    {
        if (!RuntimeFeature.IsDynamicCodeCompiled || !Vector256.IsHardwareAccelerated)
        {
            return null;
        }

        var wide = FusedWidth == 512 || (FusedWidth == 0 && Vector512.IsHardwareAccelerated);
        try
        {
            return new FusedBuilder(bandCount, wide ? typeof(Vector512) : typeof(Vector256)).Build(ops);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException or InvalidProgramException)
        {
            // The kernel only saves time: a program it cannot be built for runs as passes over planes.
            return null;
        }
    }

    /// <summary>Builds the expression tree of one fused kernel, over the vectors of <paramref name="vectors"/> (Vector256 or Vector512).</summary>
    private sealed class FusedBuilder(int bandCount, Type vectors)
    {
        private readonly Type _vector = VectorOf(vectors);
        private readonly int _lanes = vectors == typeof(Vector512) ? Vector512<float>.Count : Vector256<float>.Count;

        // The vector class's float32 methods the kernel calls (looked up once per kernel).
        private readonly MethodInfo _loadUnsafe = Generic(vectors, nameof(Vector256.LoadUnsafe), 2);
        private readonly MethodInfo _storeUnsafe = Generic(vectors, nameof(Vector256.StoreUnsafe), 3);
        private readonly MethodInfo _broadcast = vectors.GetMethod(nameof(Vector256.Create), [typeof(float)])!;
        private readonly MethodInfo _log = vectors == typeof(Vector256) && UseInlineLog && InlineLog.IsSupported
            ? typeof(InlineLog).GetMethod(nameof(InlineLog.Log))!
            : vectors.GetMethod(nameof(Vector256.Log), [VectorOf(vectors)])!;
        private readonly MethodInfo _exp = vectors.GetMethod(nameof(Vector256.Exp), [VectorOf(vectors)])!;
        private readonly MethodInfo _sqrt = Generic(vectors, nameof(Vector256.Sqrt), 1);
        private readonly MethodInfo _abs = Generic(vectors, nameof(Vector256.Abs), 1);
        private readonly MethodInfo _equals = Generic(vectors, nameof(Vector256.Equals), 2);
        private readonly MethodInfo _msb = Generic(vectors, nameof(Vector256.ExtractMostSignificantBits), 1);

        /// <summary>
        /// The unordered compare of two vectors (all bits set where either lane is NaN), where
        /// the processor has it at this width; null otherwise. The NaN test then takes two
        /// features a compare and an OR, where it took a compare and an OR each: in
        /// <c>fast</c>'s kernel 5 unordered compares, one NaN compare and 6 ORs replace 11 and
        /// 11, of about 160 instructions in the kernel's listing. On the Zen 3 EPYC (builds
        /// alternating): the published <c>spectral</c>'s nine features (BenchmarkDotNet,
        /// <c>ProgramChecked</c>) 4.23 and 4.24 us against 5.04 and 5.34; <c>fast</c>'s mask
        /// path on two threads, four rounds, 157.1, 160.1, 157.9 and 163.5 Mpx/s against
        /// 141.3, 162.5, 151.9 and 151.9 (medians 159.0 and 151.9, +4.7 %); its probabilities,
        /// where the features are a smaller share, 114.9, 137.3 and 110.9 against 114.7, 122.2
        /// and 124.7.
        /// </summary>
        private readonly MethodInfo? _unordered = vectors == typeof(Vector256) && Avx.IsSupported
            ? typeof(Avx).GetMethod(nameof(Avx.CompareUnordered), [typeof(Vector256<float>), typeof(Vector256<float>)])
            : vectors == typeof(Vector512) && Avx512F.IsSupported
                ? typeof(Avx512F).GetMethod(nameof(Avx512F.CompareUnordered), [typeof(Vector512<float>), typeof(Vector512<float>)])
                : null;

        private readonly ParameterExpression _obs = Expression.Parameter(typeof(float).MakeByRefType(), "obs");
        private readonly ParameterExpression _ref = Expression.Parameter(typeof(float).MakeByRefType(), "reference");
        private readonly ParameterExpression _features = Expression.Parameter(typeof(float).MakeByRefType(), "features");
        private readonly ParameterExpression _stride = Expression.Parameter(typeof(long), "stride");
        private readonly ParameterExpression _count = Expression.Parameter(typeof(long), "count");
        private readonly ParameterExpression _i = Expression.Variable(typeof(long), "i");

        /// <summary>Constants, broadcast once before the loop.</summary>
        private readonly Dictionary<int, ParameterExpression> _constants = [];
        private readonly List<Expression> _prologue = [];

        /// <summary>Bands, loaded once per vector where first read.</summary>
        private readonly Dictionary<(bool Reference, int Band), ParameterExpression> _bands = [];
        private readonly Dictionary<int, ParameterExpression> _registers = [];
        private readonly List<ParameterExpression> _locals = [];
        private readonly List<Expression> _body = [];
        private ParameterExpression _output = null!;

        public Fused Build(Op[][] ops)
        {
            var nan = Expression.Variable(_vector, "nan");
            ParameterExpression? unpaired = null;
            for (var f = 0; f < ops.Length; f++)
            {
                _output = Local($"f{f}");
                foreach (var op in ops[f])
                {
                    _body.Add(Expression.Assign(Register(op.Dest), Compute(op)));
                }

                _body.Add(Expression.Call(_storeUnsafe, _output, _features, Offset(f)));
                if (_unordered is null)
                {
                    _body.Add(Expression.OrAssign(nan, IsNaN(_output)));
                }
                else if (unpaired is null)
                {
                    unpaired = _output;
                }
                else
                {
                    // Two features a compare: lanes where either is NaN.
                    _body.Add(Expression.OrAssign(nan, Expression.Call(_unordered, unpaired, _output)));
                    unpaired = null;
                }
            }

            if (unpaired is not null)
            {
                _body.Add(Expression.OrAssign(nan, IsNaN(unpaired)));
            }

            var end = Expression.Label("end");
            var loop = Expression.Loop(
                Expression.IfThenElse(
                    Expression.LessThan(_i, _count),
                    Expression.Block(_locals, [.. _body, Expression.AddAssign(_i, Expression.Constant((long)_lanes))]),
                    Expression.Break(end)),
                end);
            var body = Expression.Block(
                typeof(bool),
                [_i, nan, .. _constants.Values],
                [
                    .. _prologue,
                    Expression.Assign(_i, Expression.Constant(0L)),
                    Expression.Assign(nan, Expression.Default(_vector)),
                    loop,
                    Expression.NotEqual(Expression.Convert(Expression.Call(_msb, nan), typeof(ulong)), Expression.Constant(0UL)),
                ]);
            return new Fused(Expression.Lambda<FusedKernel>(body, "FusedFeatures", [_obs, _ref, _features, _stride, _count]).Compile(), _lanes, _log.DeclaringType == typeof(InlineLog));
        }

        private Expression Compute(in Op op)
        {
            var a = op.A;
            var b = op.B;
            return op.Code switch
            {
                OpCode.Fill or OpCode.Copy => Operand(a),
                // TensorPrimitives.Negate flips the sign bit (of zeros and NaN too), as this does.
                OpCode.Negate => Expression.ExclusiveOr(Operand(a), Constant(-0f)),
                OpCode.Log => Expression.Call(_log, Operand(a)),
                OpCode.Exp => Expression.Call(_exp, Operand(a)),
                OpCode.Sqrt => Expression.Call(_sqrt, Operand(a)),
                OpCode.Abs => Expression.Call(_abs, Operand(a)),
                OpCode.Add => Expression.Add(Operand(a), Operand(b)),
                OpCode.Subtract => Expression.Subtract(Operand(a), Operand(b)),
                OpCode.Multiply => Expression.Multiply(Operand(a), Operand(b)),
                OpCode.Divide => Expression.Divide(Operand(a), Operand(b)),
                OpCode.NormalizedDifference => Expression.Divide(
                    Expression.Subtract(Operand(a), Operand(b)), Expression.Add(Operand(a), Operand(b))),
                OpCode.Nldr => Expression.Subtract(
                    G(Band(a.Kind == OperandKind.RefBand, op.BandA), Band(a.Kind == OperandKind.RefBand, op.BandB)),
                    G(Band(b.Kind == OperandKind.RefBand, op.BandA), Band(b.Kind == OperandKind.RefBand, op.BandB))),
                OpCode.BrayCurtis => Expression.Divide(
                    Sum(Terms(a, b, (x, y) => Expression.Call(_abs, Expression.Subtract(x, y)))),
                    Sum(Terms(a, b, (x, y) => Expression.Call(_abs, Expression.Add(x, y))))),
                OpCode.Cosine => Expression.Subtract(
                    Constant(1f),
                    Expression.Divide(
                        Sum(Terms(a, b, Expression.Multiply)),
                        Expression.Multiply(
                            Expression.Call(_sqrt, Sum(Terms(a, a, Expression.Multiply))),
                            Expression.Call(_sqrt, Sum(Terms(b, b, Expression.Multiply)))))),
                OpCode.Euclidean => Expression.Call(_sqrt, Sum(Terms(a, b, (x, y) =>
                {
                    var d = Local("d");
                    return Expression.Block(Expression.Assign(d, Expression.Subtract(x, y)), Expression.Multiply(d, d));
                }))),
                _ => throw new InvalidOperationException($"unknown op {op.Code}"),
            };
        }

        /// <summary>(2 (a^2 + b^2) + 1.5 b + 0.5 a) / (a + b + 0.5), in <see cref="SpectralKernels.Nldr"/>'s order.</summary>
        private Expression G(Expression a, Expression b) =>
            Expression.Divide(
                Expression.Add(
                    Expression.Add(
                        Expression.Multiply(Constant(2f), Expression.Add(Expression.Multiply(a, a), Expression.Multiply(b, b))),
                        Expression.Multiply(Constant(1.5f), b)),
                    Expression.Multiply(Constant(0.5f), a)),
                Expression.Add(Expression.Add(a, b), Constant(0.5f)));

        /// <summary>One term per band of two whole images (obs or ref each).</summary>
        private List<Expression> Terms(in Operand x, in Operand y, Func<Expression, Expression, Expression> term)
        {
            var terms = new List<Expression>(bandCount);
            for (var band = 0; band < bandCount; band++)
            {
                terms.Add(term(Band(x.Kind == OperandKind.RefBand, band), Band(y.Kind == OperandKind.RefBand, band)));
            }

            return terms;
        }

        /// <summary>The terms summed in NumPy's pairwise order, as <see cref="SpectralKernels.PairwiseSum(ReadOnlySpan{float})"/> sums them.</summary>
        private Expression Sum(List<Expression> a)
        {
            if (a.Count < 8)
            {
                Expression res = Constant(0f);
                foreach (var v in a)
                {
                    res = Expression.Add(res, v);
                }

                return res;
            }

            if (a.Count <= 128)
            {
                var r = a.Take(8).ToArray();
                var i = 8;
                for (; i < a.Count - (a.Count % 8); i += 8)
                {
                    for (var k = 0; k < 8; k++)
                    {
                        r[k] = Expression.Add(r[k], a[i + k]);
                    }
                }

                Expression res = Expression.Add(
                    Expression.Add(Expression.Add(r[0], r[1]), Expression.Add(r[2], r[3])),
                    Expression.Add(Expression.Add(r[4], r[5]), Expression.Add(r[6], r[7])));
                for (; i < a.Count; i++)
                {
                    res = Expression.Add(res, a[i]);
                }

                return res;
            }

            var n2 = a.Count / 2;
            n2 -= n2 % 8;
            return Expression.Add(Sum(a[..n2]), Sum(a[n2..]));
        }

        private Expression Operand(in Operand o) => o.Kind switch
        {
            OperandKind.Constant => Constant(o.Value),
            OperandKind.Register => Register(o.Index),
            _ => Band(o.Kind == OperandKind.RefBand, o.Index),
        };

        private ParameterExpression Register(int index) =>
            index < 0 ? _output : _registers.TryGetValue(index, out var r) ? r : _registers[index] = Local($"r{index}");

        private ParameterExpression Band(bool reference, int band)
        {
            if (!_bands.TryGetValue((reference, band), out var v))
            {
                v = Local((reference ? "ref" : "obs") + band);
                _body.Add(Expression.Assign(v, Expression.Call(_loadUnsafe, reference ? _ref : _obs, Offset(band))));
                _bands[(reference, band)] = v;
            }

            return v;
        }

        private ParameterExpression Constant(float value)
        {
            var bits = BitConverter.SingleToInt32Bits(value);
            if (!_constants.TryGetValue(bits, out var c))
            {
                c = Expression.Variable(_vector, $"c{_constants.Count}");
                _prologue.Add(Expression.Assign(c, Expression.Call(_broadcast, Expression.Constant(value))));
                _constants[bits] = c;
            }

            return c;
        }

        /// <summary>Plane <paramref name="plane"/>'s element at the loop's pixel: plane * stride + i, as LoadUnsafe's unsigned offset.</summary>
        private UnaryExpression Offset(int plane) =>
            Expression.Convert(
                Expression.Convert(Expression.Add(Expression.Multiply(Expression.Constant((long)plane), _stride), _i), typeof(ulong)),
                typeof(nuint));

        private ParameterExpression Local(string name)
        {
            var v = Expression.Variable(_vector, name);
            _locals.Add(v);
            return v;
        }

        /// <summary>All bits set in the lanes of <paramref name="v"/> that are NaN.</summary>
        private Expression IsNaN(Expression v) => Expression.OnesComplement(Expression.Call(_equals, v, v));

        /// <summary>The float32 vector type of a vector class: Vector256&lt;float&gt; of Vector256.</summary>
        private static Type VectorOf(Type vectors) => vectors.GetMethod(nameof(Vector256.Create), [typeof(float)])!.ReturnType;

        /// <summary>The float32 instance of the vector class's generic method of that name and parameter count (the overloads with an element offset for loads and stores).</summary>
        private static MethodInfo Generic(Type vectors, string name, int parameters) =>
            vectors.GetMethods(BindingFlags.Public | BindingFlags.Static)
                .Single(m => m.Name == name && m.IsGenericMethodDefinition && m.GetParameters().Length == parameters
                    && (name != nameof(Vector256.LoadUnsafe) || m.GetParameters()[1].ParameterType == typeof(nuint))
                    && (name != nameof(Vector256.StoreUnsafe) || m.GetParameters()[2].ParameterType == typeof(nuint)))
                .MakeGenericMethod(typeof(float));
    }
}
