using System.Globalization;

namespace S2CloudMask.Engine.Features;

/// <summary>
/// Parses s2cloudmask feature expressions: band names, numbers, <c>+ - * /</c>, parentheses,
/// <c>log exp sqrt abs</c>, reference bands as <c>ref.B04</c>, and the spectral-temporal
/// functions <c>braycurtis(obs, ref)</c>, <c>cosine(obs, ref)</c>, <c>euclidean(obs, ref)</c>,
/// <c>nldr(obs, ref, BX, BY)</c>. Usual precedence: unary minus, then <c>* /</c>, then
/// <c>+ -</c>, all left-associative.
/// </summary>
public sealed class ExpressionParser
{
    private static readonly HashSet<string> ElementWise = new(StringComparer.Ordinal) { "log", "exp", "sqrt", "abs" };
    private static readonly HashSet<string> Distances = new(StringComparer.Ordinal) { "braycurtis", "cosine", "euclidean" };

    private readonly string _text;
    private readonly IReadOnlyList<string> _bands;
    private int _pos;

    private ExpressionParser(string text, IReadOnlyList<string> bands)
    {
        _text = text;
        _bands = bands;
    }

    /// <summary>Parses one expression over the given band names (default: the ten model bands).</summary>
    public static Expr Parse(string text, IReadOnlyList<string>? bands = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var p = new ExpressionParser(text, bands ?? SpectralBands.Names);
        p.SkipSpace();
        if (p._pos >= text.Length)
        {
            throw p.Error("the expression is empty");
        }

        var e = p.ParseSum();
        p.SkipSpace();
        if (p._pos < text.Length)
        {
            throw p.Error($"unexpected '{text[p._pos]}'");
        }

        return e;
    }

    /// <summary>True when the expression reads the reference image anywhere.</summary>
    public static bool UsesReference(Expr e) => e switch
    {
        BandExpr b => b.OfReference,
        ImageExpr => true,
        NegateExpr n => UsesReference(n.Operand),
        BinaryExpr b => UsesReference(b.Left) || UsesReference(b.Right),
        CallExpr c => c.Args.Any(UsesReference),
        _ => false,
    };

    private Expr ParseSum()
    {
        var left = ParseProduct();
        while (true)
        {
            SkipSpace();
            if (_pos < _text.Length && _text[_pos] is '+' or '-')
            {
                var at = _pos;
                var op = _text[_pos++];
                left = new BinaryExpr(op, left, ParseProduct(), at);
            }
            else
            {
                return left;
            }
        }
    }

    private Expr ParseProduct()
    {
        var left = ParseUnary();
        while (true)
        {
            SkipSpace();
            if (_pos < _text.Length && _text[_pos] is '*' or '/')
            {
                var at = _pos;
                var op = _text[_pos++];
                if (op == '*' && _pos < _text.Length && _text[_pos] == '*')
                {
                    throw Error("'**' is not supported; write the product out");
                }

                left = new BinaryExpr(op, left, ParseUnary(), at);
            }
            else
            {
                return left;
            }
        }
    }

    private Expr ParseUnary()
    {
        SkipSpace();
        if (_pos < _text.Length && _text[_pos] == '-')
        {
            var at = _pos++;
            return new NegateExpr(ParseUnary(), at);
        }

        if (_pos < _text.Length && _text[_pos] == '+')
        {
            _pos++;
            return ParseUnary();
        }

        return ParsePrimary();
    }

    private Expr ParsePrimary()
    {
        SkipSpace();
        if (_pos >= _text.Length)
        {
            throw Error("the expression ends where an operand was expected");
        }

        var c = _text[_pos];
        if (c == '(')
        {
            _pos++;
            var inner = ParseSum();
            Expect(')');
            return inner;
        }

        if (char.IsAsciiDigit(c) || c == '.')
        {
            return ParseNumber();
        }

        if (char.IsAsciiLetter(c) || c == '_')
        {
            var at = _pos;
            var name = ReadIdentifier();
            SkipSpace();
            if (_pos < _text.Length && _text[_pos] == '(')
            {
                return ParseCall(name, at);
            }

            if (name is "obs" or "ref")
            {
                if (_pos < _text.Length && _text[_pos] == '.')
                {
                    _pos++;
                    SkipSpace();
                    var bandAt = _pos;
                    var band = ReadIdentifier();
                    return new BandExpr(BandIndex(band, bandAt), name == "ref", at);
                }

                throw new ExpressionException(_text, at, $"'{name}' is a whole image: use it inside braycurtis/cosine/euclidean/nldr, or pick a band as {name}.B04");
            }

            return new BandExpr(BandIndex(name, at), false, at);
        }

        throw Error($"unexpected '{c}'");
    }

    private Expr ParseCall(string name, int at)
    {
        Expect('(');
        var args = new List<Expr>();
        SkipSpace();
        if (_pos < _text.Length && _text[_pos] == ')')
        {
            _pos++;
        }
        else
        {
            while (true)
            {
                args.Add(ParseArgument());
                SkipSpace();
                if (_pos < _text.Length && _text[_pos] == ',')
                {
                    _pos++;
                    continue;
                }

                Expect(')');
                break;
            }
        }

        if (ElementWise.Contains(name))
        {
            RequireArgs(name, at, args, 1);
            RequireScalarArgs(name, args);
        }
        else if (Distances.Contains(name))
        {
            RequireArgs(name, at, args, 2);
            RequireImages(name, args, 2);
        }
        else if (name == "nldr")
        {
            RequireArgs(name, at, args, 4);
            RequireImages(name, args, 2);
            for (var i = 2; i < 4; i++)
            {
                if (args[i] is not BandExpr { OfReference: false })
                {
                    throw new ExpressionException(_text, args[i].Position, "nldr's third and fourth arguments must be band names");
                }
            }
        }
        else
        {
            throw new ExpressionException(_text, at, $"unknown function '{name}' (known: log exp sqrt abs braycurtis cosine euclidean nldr)");
        }

        return new CallExpr(name, args, at);
    }

    // Whole images are only legal as function arguments, so they are recognised here.
    private Expr ParseArgument()
    {
        SkipSpace();
        var save = _pos;
        if (_pos < _text.Length && char.IsAsciiLetter(_text[_pos]))
        {
            var name = ReadIdentifier();
            SkipSpace();
            if (name is "obs" or "ref" && (_pos >= _text.Length || _text[_pos] is ',' or ')'))
            {
                return new ImageExpr(name == "ref", save);
            }
        }

        _pos = save;
        return ParseSum();
    }

    private void RequireArgs(string name, int at, List<Expr> args, int count)
    {
        if (args.Count != count)
        {
            throw new ExpressionException(_text, at, $"{name} takes {count} argument{(count == 1 ? "" : "s")}, got {args.Count}");
        }
    }

    private void RequireScalarArgs(string name, List<Expr> args)
    {
        foreach (var a in args)
        {
            if (a is ImageExpr)
            {
                throw new ExpressionException(_text, a.Position, $"{name} takes a band expression, not a whole image");
            }
        }
    }

    private void RequireImages(string name, List<Expr> args, int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (args[i] is not ImageExpr)
            {
                throw new ExpressionException(_text, args[i].Position, $"{name}'s argument {i + 1} must be 'obs' or 'ref'");
            }
        }
    }

    private int BandIndex(string name, int at)
    {
        for (var i = 0; i < _bands.Count; i++)
        {
            if (string.Equals(_bands[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new ExpressionException(_text, at, $"unknown band '{name}' (bands: {string.Join(" ", _bands)})");
    }

    private NumberExpr ParseNumber()
    {
        var at = _pos;
        while (_pos < _text.Length && (char.IsAsciiDigit(_text[_pos]) || _text[_pos] == '.'))
        {
            _pos++;
        }

        if (_pos < _text.Length && _text[_pos] is 'e' or 'E')
        {
            var save = _pos++;
            if (_pos < _text.Length && _text[_pos] is '+' or '-')
            {
                _pos++;
            }

            if (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                {
                    _pos++;
                }
            }
            else
            {
                _pos = save;
            }
        }

        var s = _text[at.._pos];
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
        {
            throw new ExpressionException(_text, at, $"bad number '{s}'");
        }

        return new NumberExpr(v, at);
    }

    private string ReadIdentifier()
    {
        var start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
        {
            _pos++;
        }

        if (_pos == start)
        {
            throw Error("a name was expected");
        }

        return _text[start.._pos];
    }

    private void Expect(char c)
    {
        SkipSpace();
        if (_pos >= _text.Length)
        {
            throw Error($"missing '{c}' at the end");
        }

        if (_text[_pos] != c)
        {
            throw Error($"expected '{c}' but found '{_text[_pos]}'");
        }

        _pos++;
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }

    private ExpressionException Error(string problem) => new(_text, _pos, problem);
}
