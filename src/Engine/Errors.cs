namespace S2CloudMask.Engine;

/// <summary>
/// The caller's input is wrong (a malformed array, a wrong band count, an unknown model).
/// <see cref="Code"/> is a short stable slug the service turns into a problem type, so
/// clients can tell failures apart without parsing messages.
/// </summary>
public class InvalidInputException(string code, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Code { get; } = code;
}

/// <summary>The input exceeds a configured size limit (pixels or bytes).</summary>
public sealed class InputTooLargeException(string message) : InvalidInputException("too-large", message);

/// <summary>A model file or feature expression is malformed; names the file or expression.</summary>
public sealed class ModelFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A feature expression cannot be parsed; names the expression and the position.</summary>
public sealed class ExpressionException(string expression, int position, string problem)
    : Exception($"feature expression '{expression}': {problem} at position {position + 1}")
{
    public string Expression { get; } = expression;

    /// <summary>Zero-based character index where the problem was found.</summary>
    public int Position { get; } = position;
}
