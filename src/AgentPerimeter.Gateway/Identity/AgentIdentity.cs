namespace AgentPerimeter.Gateway.Identity;

/// <summary>Who an action is for, taken from a validated token.</summary>
/// <param name="Resource">The resource URL the token is bound to (RFC 8707 audience), or null for the whole perimeter.</param>
public sealed record AgentIdentity(string AgentId, string SessionId, string WorkType, string Issuer, DateTimeOffset ExpiresAt, string? Resource = null)
{
    /// <summary>
    /// Whether a request for <paramref name="path"/> (decoded, as Kestrel gives it) is within the resource the
    /// token was issued for: the resource's path or a path under it, segment-wise; and, when
    /// <paramref name="host"/> is given (the perimeter has no configured public URL that audiences were
    /// already checked against), the same host name.
    /// </summary>
    public bool Covers(string? host, string path)
    {
        if (Resource is null)
            return true;
        if (!Uri.TryCreate(Resource, UriKind.Absolute, out var uri))
            return false;
        if (host is not null && !string.Equals(uri.Host, host, StringComparison.OrdinalIgnoreCase))
            return false;
        var scope = Uri.UnescapeDataString(uri.AbsolutePath).TrimEnd('/');
        return scope.Length == 0 || path == scope || path.StartsWith(scope + "/", StringComparison.Ordinal);
    }
}
