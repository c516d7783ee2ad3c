namespace S2CloudMask.Engine.Gdal;

/// <summary>
/// GDAL refused an operation. The message is what was being done (with the file name) followed
/// by GDAL's own message, e.g. <c>opening '/vsimem/…': '/vsimem/…' not recognized as a
/// supported file format.</c>
/// </summary>
public sealed class GdalException : Exception
{
    public GdalException()
    {
    }

    public GdalException(string message)
        : base(message)
    {
    }

    public GdalException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public GdalException(string message, int errorNumber)
        : base(message) => ErrorNumber = errorNumber;

    /// <summary>GDAL's CPLErrorNum (1 = AppDefined, 4 = OpenFailed, 10 = AssertionFailed, …); 0 when unknown.</summary>
    public int ErrorNumber { get; }
}
