using S2CloudMask.Engine.Features;

namespace S2CloudMask.Engine.Tests.Features;

public sealed class ExpressionParserTests
{
    [Theory]
    [InlineData("1+2*3", 7)]
    [InlineData("(1+2)*3", 9)]
    [InlineData("8/4/2", 1)]
    [InlineData("8-4-2", 2)]
    [InlineData("-2*3", -6)]
    [InlineData("2*-3", -6)]
    [InlineData("--2", 2)]
    [InlineData("1.5e1 + .5", 15.5)]
    public void PrecedenceAndAssociativity(string text, double expected)
    {
        Assert.Equal(expected, Eval(ExpressionParser.Parse(text)));
    }

    [Fact]
    public void BandNamesResolveToTheirIndex()
    {
        var e = Assert.IsType<BinaryExpr>(ExpressionParser.Parse("B03*log(B12)"));
        Assert.Equal(1, Assert.IsType<BandExpr>(e.Left).Band);
        var call = Assert.IsType<CallExpr>(e.Right);
        Assert.Equal("log", call.Function);
        Assert.Equal(9, Assert.IsType<BandExpr>(call.Args[0]).Band);
    }

    [Fact]
    public void ReferenceBandsAndSpectralTemporalFunctionsParse()
    {
        Assert.True(ExpressionParser.UsesReference(ExpressionParser.Parse("nldr(obs, ref, B02, B04)")));
        Assert.True(ExpressionParser.UsesReference(ExpressionParser.Parse("braycurtis(obs, ref)")));
        Assert.True(ExpressionParser.UsesReference(ExpressionParser.Parse("B04 - ref.B04")));
        Assert.False(ExpressionParser.UsesReference(ExpressionParser.Parse("(B04-B11)/(B04+B11)")));
    }

    [Theory]
    [InlineData("B03*log(B13)", 8, "unknown band 'B13'")]
    [InlineData("B03*", 4, "ends where an operand")]
    [InlineData("(B03+B04", 8, "missing ')'")]
    [InlineData("B03 B04", 4, "unexpected 'B'")]
    [InlineData("foo(B03)", 0, "unknown function 'foo'")]
    [InlineData("log(B03, B04)", 0, "log takes 1 argument")]
    [InlineData("braycurtis(obs, B04)", 16, "must be 'obs' or 'ref'")]
    [InlineData("nldr(obs, ref, B02, 3)", 20, "band names")]
    [InlineData("B03 ** 2", 5, "'**' is not supported")]
    [InlineData("obs", 0, "whole image")]
    [InlineData("", 0, "empty")]
    [InlineData("B03 $ 2", 4, "unexpected '$'")]
    public void ErrorsNameTheExpressionAndPosition(string text, int position, string problem)
    {
        var e = Assert.Throws<ExpressionException>(() => ExpressionParser.Parse(text));
        Assert.Equal(text, e.Expression);
        Assert.Equal(position, e.Position);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.Contains($"'{text}'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"position {position + 1}", e.Message, StringComparison.Ordinal);
    }

    private static double Eval(Expr e) => e switch
    {
        NumberExpr n => n.Value,
        NegateExpr n => -Eval(n.Operand),
        BinaryExpr b => b.Op switch
        {
            '+' => Eval(b.Left) + Eval(b.Right),
            '-' => Eval(b.Left) - Eval(b.Right),
            '*' => Eval(b.Left) * Eval(b.Right),
            _ => Eval(b.Left) / Eval(b.Right),
        },
        _ => throw new InvalidOperationException(),
    };
}
