using S2CloudMask.Engine;

namespace S2CloudMask.Api.Problems;

/// <summary>
/// The request is well-formed but cannot be processed as asked (a reference on another grid,
/// bands in different CRSs, a remote file that is not a TIFF): 422 with the given problem code.
/// </summary>
public class UnprocessableInputException(string code, string message, Exception? inner = null)
    : InvalidInputException(code, message, inner);
