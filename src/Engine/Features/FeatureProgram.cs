using System.Numerics.Tensors;

namespace S2CloudMask.Engine.Features;

/// <summary>
/// Feature expressions compiled once into a list of whole-span operations (TensorPrimitives
/// and the kernels of <see cref="SpectralKernels"/>), so evaluation costs one vectorised
/// pass per operator over a block of pixels and nothing per pixel; where code can be
/// compiled at run time the same operations run fused in one loop over vectors
/// (FeatureProgram.Fused.cs). Arithmetic is float32 in the expression's own order, as NumPy
/// evaluates it in the reference.
/// </summary>
public sealed partial class FeatureProgram
{
    private readonly Op[][] _ops;

    /// <summary>The fused kernel (<see cref="CompileFused"/>), built at the first evaluation or at <see cref="Prepare"/>.</summary>
    private readonly Lazy<Fused?> _fused;

    private FeatureProgram(IReadOnlyList<string> expressions, IReadOnlyList<string> bands, Op[][] ops, int registers, bool usesReference)
    {
        Expressions = expressions;
        Bands = bands;
        _ops = ops;
        RegisterCount = registers;
        UsesReference = usesReference;
        (ObsBandMask, RefBandMask) = BandsRead(ops, bands.Count);
        _fused = new(() => CompileFused(ops, bands.Count));
    }

    /// <summary>
    /// The bands evaluation reads, bit b for band b, of the observation and of the reference
    /// (every bit from band 64 on, or when a whole-image distance reads them all): the
    /// decoder may leave the other planes unwritten.
    /// </summary>
    public ulong ObsBandMask { get; }

    /// <inheritdoc cref="ObsBandMask"/>
    public ulong RefBandMask { get; }

    private static (ulong Obs, ulong Ref) BandsRead(Op[][] ops, int bandCount)
    {
        var all = bandCount >= 64 ? ulong.MaxValue : (1UL << bandCount) - 1;
        ulong obs = 0, reference = 0;
        void Read(in Operand o, ulong bits)
        {
            if (o.Kind == OperandKind.ObsBand)
            {
                obs |= bits;
            }
            else if (o.Kind == OperandKind.RefBand)
            {
                reference |= bits;
            }
        }

        static ulong Bit(int band) => band >= 64 ? ulong.MaxValue : 1UL << band;

        foreach (var op in ops.SelectMany(f => f))
        {
            switch (op.Code)
            {
                case OpCode.BrayCurtis or OpCode.Cosine or OpCode.Euclidean:
                    Read(op.A, all);
                    Read(op.B, all);
                    break;
                case OpCode.Nldr:
                    Read(op.A, Bit(op.BandA) | Bit(op.BandB));
                    Read(op.B, Bit(op.BandA) | Bit(op.BandB));
                    break;
                default:
                    Read(op.A, Bit(op.A.Index));
                    Read(op.B, Bit(op.B.Index));
                    break;
            }
        }

        return (obs, reference);
    }

    public IReadOnlyList<string> Expressions { get; }

    public IReadOnlyList<string> Bands { get; }

    public int FeatureCount => _ops.Length;

    /// <summary>Scratch planes evaluation needs (see <see cref="ScratchLength"/>).</summary>
    public int RegisterCount { get; }

    /// <summary>True when any expression reads the reference image (a spectral-temporal model).</summary>
    public bool UsesReference { get; }

    public static FeatureProgram Compile(IReadOnlyList<string> expressions, IReadOnlyList<string>? bands = null)
    {
        ArgumentNullException.ThrowIfNull(expressions);
        bands ??= SpectralBands.Names;
        var trees = expressions.Select(e => ExpressionParser.Parse(e, bands)).ToArray();
        var compiler = new Compiler(trees);
        var ops = new Op[expressions.Count][];
        var usesRef = false;
        for (var f = 0; f < expressions.Count; f++)
        {
            usesRef |= ExpressionParser.UsesReference(trees[f]);
            ops[f] = compiler.CompileFeature(trees[f]);
        }

        return new FeatureProgram(expressions, bands, ops, compiler.MaxRegisters, usesRef);
    }

    public int ScratchLength(int stride) => RegisterCount * stride;

    /// <summary>
    /// Evaluates every feature for <paramref name="count"/> pixels. Inputs and outputs are
    /// planes: band b at <c>obs[b * stride ..]</c>, feature f at <c>features[f * stride ..]</c>.
    /// </summary>
    public void Evaluate(ReadOnlySpan<float> obs, ReadOnlySpan<float> reference, int stride, int count, Span<float> features, Span<float> scratch)
    {
        CheckSizes(obs, reference, stride, count, features, scratch);
        RunAll(obs, reference, stride, count, features, scratch, check: false);
    }

    /// <summary>
    /// <see cref="Evaluate"/>, and whether any feature came out NaN (undefined). The fused
    /// kernel checks every feature as it stores it; on the plane path a feature whose last
    /// operation is a product of two planes or a normalised difference (every feature of the
    /// published lists) is checked as it is written, any other by a scan.
    /// </summary>
    internal bool EvaluateAndCheck(ReadOnlySpan<float> obs, ReadOnlySpan<float> reference, int stride, int count, Span<float> features, Span<float> scratch)
    {
        CheckSizes(obs, reference, stride, count, features, scratch);
        return RunAll(obs, reference, stride, count, features, scratch, check: true);
    }

    private void CheckSizes(ReadOnlySpan<float> obs, ReadOnlySpan<float> reference, int stride, int count, Span<float> features, Span<float> scratch)
    {
        if (count > stride || obs.Length < ((Bands.Count - 1) * stride) + count)
        {
            throw new ArgumentException("observation planes too small");
        }

        if (UsesReference && reference.Length < ((Bands.Count - 1) * stride) + count)
        {
            throw new ArgumentException("reference planes too small");
        }

        if (features.Length < ((FeatureCount - 1) * stride) + count || scratch.Length < ScratchLength(stride))
        {
            throw new ArgumentException("feature or scratch planes too small");
        }
    }

    private bool RunAll(ReadOnlySpan<float> obs, ReadOnlySpan<float> reference, int stride, int count, Span<float> features, Span<float> scratch, bool check)
    {
        if (TryFused(obs, reference, stride, count, features, out var any))
        {
            return any;
        }

        var nan = false;
        for (var f = 0; f < _ops.Length; f++)
        {
            var output = features.Slice(f * stride, count);
            bool? last = null;
            foreach (var op in _ops[f])
            {
                last = Run(op, obs, reference, stride, count, output, scratch);
            }

            nan = nan || (check && (last ?? FloatSpans.ContainsNaN(output)));
        }

        return nan;
    }

    /// <summary>Runs one operation; for the two that check as they write, whether any value written is NaN (null for the others).</summary>
    private bool? Run(in Op op, ReadOnlySpan<float> obs, ReadOnlySpan<float> reference, int stride, int count, Span<float> output, Span<float> scratch)
    {
        var frame = new Frame(obs, reference, output, scratch, stride, count);
        var dest = op.Dest < 0 ? output : scratch.Slice(op.Dest * stride, count);

        var a = op.A;
        var b = op.B;
        switch (op.Code)
        {
            case OpCode.Fill:
                dest.Fill(a.Value);
                break;
            case OpCode.Copy:
                frame.Plane(a).CopyTo(dest);
                break;
            case OpCode.Negate:
                TensorPrimitives.Negate(frame.Plane(a), dest);
                break;
            case OpCode.Log:
                TensorPrimitives.Log(frame.Plane(a), dest);
                break;
            case OpCode.Exp:
                TensorPrimitives.Exp(frame.Plane(a), dest);
                break;
            case OpCode.Sqrt:
                TensorPrimitives.Sqrt(frame.Plane(a), dest);
                break;
            case OpCode.Abs:
                TensorPrimitives.Abs(frame.Plane(a), dest);
                break;
            case OpCode.Add:
                if (a.IsConstant) TensorPrimitives.Add(frame.Plane(b), a.Value, dest);
                else if (b.IsConstant) TensorPrimitives.Add(frame.Plane(a), b.Value, dest);
                else TensorPrimitives.Add(frame.Plane(a), frame.Plane(b), dest);
                break;
            case OpCode.Subtract:
                if (a.IsConstant) TensorPrimitives.Subtract(a.Value, frame.Plane(b), dest);
                else if (b.IsConstant) TensorPrimitives.Subtract(frame.Plane(a), b.Value, dest);
                else TensorPrimitives.Subtract(frame.Plane(a), frame.Plane(b), dest);
                break;
            case OpCode.Multiply:
                if (a.IsConstant) TensorPrimitives.Multiply(frame.Plane(b), a.Value, dest);
                else if (b.IsConstant) TensorPrimitives.Multiply(frame.Plane(a), b.Value, dest);
                else return FloatSpans.MultiplyCheckingNaN(frame.Plane(a), frame.Plane(b), dest);
                break;
            case OpCode.Divide:
                if (a.IsConstant) TensorPrimitives.Divide(a.Value, frame.Plane(b), dest);
                else if (b.IsConstant) TensorPrimitives.Divide(frame.Plane(a), b.Value, dest);
                else TensorPrimitives.Divide(frame.Plane(a), frame.Plane(b), dest);
                break;
            case OpCode.NormalizedDifference:
                return SpectralKernels.NormalizedDifference(frame.Plane(a), frame.Plane(b), dest);
            case OpCode.BrayCurtis:
            case OpCode.Cosine:
            case OpCode.Euclidean:
            {
                var x = a.Kind == OperandKind.RefBand ? reference : obs;
                var y = b.Kind == OperandKind.RefBand ? reference : obs;
                if (op.Code == OpCode.BrayCurtis) SpectralKernels.BrayCurtis(x, y, Bands.Count, stride, dest);
                else if (op.Code == OpCode.Cosine) SpectralKernels.Cosine(x, y, Bands.Count, stride, dest);
                else SpectralKernels.Euclidean(x, y, Bands.Count, stride, dest);
                break;
            }

            case OpCode.Nldr:
            {
                var x = a.Kind == OperandKind.RefBand ? reference : obs;
                var y = b.Kind == OperandKind.RefBand ? reference : obs;
                SpectralKernels.Nldr(
                    x.Slice(op.BandA * stride, count),
                    x.Slice(op.BandB * stride, count),
                    y.Slice(op.BandA * stride, count),
                    y.Slice(op.BandB * stride, count),
                    dest);
                break;
            }

            default:
                throw new InvalidOperationException($"unknown op {op.Code}");
        }

        return null;
    }

    /// <summary>The planes one evaluation reads and writes.</summary>
    private readonly ref struct Frame(ReadOnlySpan<float> obs, ReadOnlySpan<float> reference, Span<float> output, Span<float> scratch, int stride, int count)
    {
        private readonly ReadOnlySpan<float> _obs = obs;
        private readonly ReadOnlySpan<float> _reference = reference;
        private readonly Span<float> _output = output;
        private readonly Span<float> _scratch = scratch;

        public ReadOnlySpan<float> Plane(in Operand o) => o.Kind switch
        {
            OperandKind.Register => o.Index < 0 ? _output : _scratch.Slice(o.Index * stride, count),
            OperandKind.ObsBand => _obs.Slice(o.Index * stride, count),
            OperandKind.RefBand => _reference.Slice(o.Index * stride, count),
            _ => throw new InvalidOperationException("constant used as a plane"),
        };
    }

    private enum OpCode
    {
        Fill, Copy, Negate, Log, Exp, Sqrt, Abs, Add, Subtract, Multiply, Divide, NormalizedDifference, BrayCurtis, Cosine, Euclidean, Nldr,
    }

    private enum OperandKind
    {
        Constant, Register, ObsBand, RefBand,
    }

    private readonly record struct Operand(OperandKind Kind, int Index, float Value)
    {
        public bool IsConstant => Kind == OperandKind.Constant;

        public static Operand Constant(float v) => new(OperandKind.Constant, 0, v);
    }

    /// <summary>One whole-span operation; <see cref="Dest"/> -1 is the feature's output plane.</summary>
    private readonly record struct Op(OpCode Code, Operand A, Operand B, int Dest, int BandA = 0, int BandB = 0);

    /// <summary>
    /// Post-order compilation with scratch registers reused as soon as they are read. A
    /// subexpression that occurs more than once across the features (the published lists take
    /// <c>log(B11)</c> and <c>log(B12)</c> up to five times each) is computed once, where it
    /// first occurs, into a register kept for the rest of the evaluation: the same operations
    /// on the same values, so the features are bit for bit what they were.
    /// </summary>
    private sealed class Compiler
    {
        private readonly List<Op> _ops = [];
        private readonly SortedSet<int> _free = [];
        private readonly HashSet<string> _repeated;
        private readonly Dictionary<string, Operand> _kept = new(StringComparer.Ordinal);
        private readonly HashSet<int> _keptRegisters = [];
        private int _next;

        public Compiler(IEnumerable<Expr> trees)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            void Count(Expr e)
            {
                if (e is NegateExpr or BinaryExpr or CallExpr)
                {
                    var key = Key(e);
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }

                foreach (var child in Children(e))
                {
                    Count(child);
                }
            }

            foreach (var t in trees)
            {
                Count(t);
            }

            _repeated = [.. counts.Where(kv => kv.Value > 1).Select(kv => kv.Key)];
        }

        public int MaxRegisters => _next;

        public Op[] CompileFeature(Expr tree)
        {
            _ops.Clear();
            _free.Clear();
            for (var r = 0; r < _next; r++)
            {
                if (!_keptRegisters.Contains(r))
                {
                    _free.Add(r);
                }
            }

            var result = Emit(tree, toOutput: true);
            if (result.Kind != OperandKind.Register || result.Index != -1)
            {
                // A constant or a bare band: materialise it in the output plane.
                _ops.Add(result.IsConstant
                    ? new Op(OpCode.Fill, result, default, -1)
                    : new Op(OpCode.Copy, result, default, -1));
            }

            return [.. _ops];
        }

        private Operand Emit(Expr e, bool toOutput)
        {
            if (e is NegateExpr or BinaryExpr or CallExpr && _repeated.Contains(Key(e)))
            {
                var key = Key(e);
                if (!_kept.TryGetValue(key, out var kept))
                {
                    kept = EmitOnce(e, toOutput: false);
                    if (kept.Kind == OperandKind.Register)
                    {
                        _keptRegisters.Add(kept.Index);
                    }

                    _kept[key] = kept;
                }

                return kept;
            }

            return EmitOnce(e, toOutput);
        }

        private Operand EmitOnce(Expr e, bool toOutput)
        {
            switch (e)
            {
                case NumberExpr n:
                    return Operand.Constant((float)n.Value);
                case BandExpr b:
                    return new Operand(b.OfReference ? OperandKind.RefBand : OperandKind.ObsBand, b.Band, 0);
                case NegateExpr neg:
                {
                    var a = Emit(neg.Operand, false);
                    if (a.IsConstant)
                    {
                        return Operand.Constant(-a.Value);
                    }

                    return Store(OpCode.Negate, a, default, toOutput);
                }

                case BinaryExpr { Op: '/', Left: BinaryExpr { Op: '-', Left: BandExpr, Right: BandExpr } diff, Right: BinaryExpr { Op: '+' } sum }
                    when Key(diff.Left) == Key(sum.Left) && Key(diff.Right) == Key(sum.Right):
                    // (a - b) / (a + b) of two bands, the normalised differences of the published
                    // lists: one pass instead of three (the same operations, so the same bits).
                    return Store(OpCode.NormalizedDifference, Emit(diff.Left, false), Emit(diff.Right, false), toOutput);

                case BinaryExpr bin:
                {
                    var a = Emit(bin.Left, false);
                    var b = Emit(bin.Right, false);
                    var code = bin.Op switch
                    {
                        '+' => OpCode.Add,
                        '-' => OpCode.Subtract,
                        '*' => OpCode.Multiply,
                        _ => OpCode.Divide,
                    };
                    if (a.IsConstant && b.IsConstant)
                    {
                        return Operand.Constant(code switch
                        {
                            OpCode.Add => a.Value + b.Value,
                            OpCode.Subtract => a.Value - b.Value,
                            OpCode.Multiply => a.Value * b.Value,
                            _ => a.Value / b.Value,
                        });
                    }

                    return Store(code, a, b, toOutput);
                }

                case CallExpr call:
                    return EmitCall(call, toOutput);
                default:
                    throw new InvalidOperationException($"cannot compile {e.GetType().Name}");
            }
        }

        private Operand EmitCall(CallExpr call, bool toOutput)
        {
            switch (call.Function)
            {
                case "log":
                case "exp":
                case "sqrt":
                case "abs":
                {
                    var a = Emit(call.Args[0], false);
                    var code = call.Function switch
                    {
                        "log" => OpCode.Log,
                        "exp" => OpCode.Exp,
                        "sqrt" => OpCode.Sqrt,
                        _ => OpCode.Abs,
                    };
                    if (a.IsConstant)
                    {
                        return Operand.Constant(code switch
                        {
                            OpCode.Log => MathF.Log(a.Value),
                            OpCode.Exp => MathF.Exp(a.Value),
                            OpCode.Sqrt => MathF.Sqrt(a.Value),
                            _ => MathF.Abs(a.Value),
                        });
                    }

                    return Store(code, a, default, toOutput);
                }

                default:
                {
                    var x = Image(call.Args[0]);
                    var y = Image(call.Args[1]);
                    var code = call.Function switch
                    {
                        "braycurtis" => OpCode.BrayCurtis,
                        "cosine" => OpCode.Cosine,
                        "euclidean" => OpCode.Euclidean,
                        _ => OpCode.Nldr,
                    };
                    var dest = toOutput ? -1 : Allocate();
                    var bandA = code == OpCode.Nldr ? ((BandExpr)call.Args[2]).Band : 0;
                    var bandB = code == OpCode.Nldr ? ((BandExpr)call.Args[3]).Band : 0;
                    _ops.Add(new Op(code, x, y, dest, bandA, bandB));
                    return new Operand(OperandKind.Register, dest, 0);
                }
            }
        }

        private static Operand Image(Expr e) =>
            new(((ImageExpr)e).IsReference ? OperandKind.RefBand : OperandKind.ObsBand, 0, 0);

        private Operand Store(OpCode code, Operand a, Operand b, bool toOutput)
        {
            Release(a);
            Release(b);
            var dest = toOutput ? -1 : Allocate();
            _ops.Add(new Op(code, a, b, dest));
            return new Operand(OperandKind.Register, dest, 0);
        }

        private void Release(Operand o)
        {
            if (o.Kind == OperandKind.Register && o.Index >= 0 && !_keptRegisters.Contains(o.Index))
            {
                _free.Add(o.Index);
            }
        }

        /// <summary>A canonical text of a subexpression (positions left out), to find repeats.</summary>
        private static string Key(Expr e) => e switch
        {
            NumberExpr n => n.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            BandExpr b => (b.OfReference ? "ref." : "") + "b" + b.Band.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ImageExpr i => i.IsReference ? "ref" : "obs",
            NegateExpr n => "-(" + Key(n.Operand) + ")",
            BinaryExpr b => "(" + Key(b.Left) + b.Op + Key(b.Right) + ")",
            CallExpr c => c.Function + "(" + string.Join(",", c.Args.Select(Key)) + ")",
            _ => throw new InvalidOperationException(),
        };

        private static IEnumerable<Expr> Children(Expr e) => e switch
        {
            NegateExpr n => [n.Operand],
            BinaryExpr b => [b.Left, b.Right],
            CallExpr c => c.Args,
            _ => [],
        };

        private int Allocate()
        {
            if (_free.Count > 0)
            {
                var r = _free.Min;
                _free.Remove(r);
                return r;
            }

            return _next++;
        }
    }
}
