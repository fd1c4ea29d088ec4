namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// Where this perimeter's Protected Resource Metadata (RFC 9728) is, for the challenge of every 401:
/// under <see cref="PublicUrl"/> when configured (<c>Gateway:OAuth:PublicUrl</c>), else under the request's own scheme and host.
/// </summary>
public sealed record ProtectedResourceInfo(string? PublicUrl)
{
    public const string MetadataPath = "/.well-known/oauth-protected-resource";
}
