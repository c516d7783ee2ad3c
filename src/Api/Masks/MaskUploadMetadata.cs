namespace S2CloudMask.Api.Masks;

/// <summary>
/// Marks an endpoint that reads its body itself (several media types on one route), so the
/// OpenAPI filter describes the accepted bodies and Swagger UI offers a file upload.
/// </summary>
public sealed class MaskUploadMetadata;
