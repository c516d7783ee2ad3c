namespace S2CloudMask.Engine.Features;

/// <summary>Syntax tree of a feature expression. Positions are zero-based character indexes.</summary>
public abstract record Expr(int Position);

/// <summary>A number literal.</summary>
public sealed record NumberExpr(double Value, int Position) : Expr(Position);

/// <summary>A band of the observation (<c>B04</c>, <c>obs.B04</c>) or of the reference (<c>ref.B04</c>).</summary>
public sealed record BandExpr(int Band, bool OfReference, int Position) : Expr(Position);

/// <summary>A whole image argument, <c>obs</c> or <c>ref</c>, as taken by <c>braycurtis</c> and friends.</summary>
public sealed record ImageExpr(bool IsReference, int Position) : Expr(Position);

/// <summary>Unary minus.</summary>
public sealed record NegateExpr(Expr Operand, int Position) : Expr(Position);

/// <summary>One of <c>+ - * /</c>.</summary>
public sealed record BinaryExpr(char Op, Expr Left, Expr Right, int Position) : Expr(Position);

/// <summary>A function call; arguments checked by the parser.</summary>
public sealed record CallExpr(string Function, IReadOnlyList<Expr> Args, int Position) : Expr(Position);
