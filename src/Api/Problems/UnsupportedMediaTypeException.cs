namespace S2CloudMask.Api.Problems;

/// <summary>The request body has a Content-Type (or a file part has a format) the service cannot read: 415.</summary>
public sealed class UnsupportedMediaTypeException(string message) : Exception(message);
