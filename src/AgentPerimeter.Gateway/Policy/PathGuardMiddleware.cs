using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using Microsoft.AspNetCore.Http.Features;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Refuses any request whose path is not in canonical form, so the path policy decides on is exactly
/// the path forwarded. Kestrel decodes and resolves dot segments in <c>Request.Path</c>; an upstream
/// (or a second decoder) may not agree, so rather than guess we accept only targets where the raw
/// and decoded forms cannot differ in meaning: no dot segments, no empty segments, no backslash, and
/// no ';' path parameters, and no percent-encoded '/', '\', '.', '%', ';' or control characters.
/// </summary>
internal sealed class PathGuardMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        // An upgraded connection (WebSocket, h2 extended CONNECT) would be one action followed by an
        // uninspected tunnel: the perimeter does not carry them.
        if (context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
            || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true)
        {
            context.Response.Headers.Connection = "close"; // the bytes after an upgrade request may not be HTTP/1.1
            return ActionResponses.RefuseAsync(context, StatusCodes.Status400BadRequest,
                new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.UpgradeNotAllowed, null,
                    "The perimeter does not carry WebSocket or other upgraded connections: their traffic could not be governed."));
        }
        // Request smuggling: a body framed two ways may be split differently by the upstream (or a proxy
        // between). Kestrel refuses a repeated Content-Length and a final coding other than chunked;
        // RequestFramingGuardMiddleware refuses Content-Length with Transfer-Encoding (which Kestrel would read
        // as chunked) and a signed length; this refuses the rest: any Transfer-Encoding but one plain "chunked"
        // ("gzip, chunked", "chunked, chunked").
        var transferEncoding = context.Request.Headers.TransferEncoding;
        if (transferEncoding.Count > 0
            && !(transferEncoding.Count == 1 && string.Equals(transferEncoding.ToString().Trim(), "chunked", StringComparison.OrdinalIgnoreCase)))
        {
            return ActionResponses.RefuseAsync(context, StatusCodes.Status400BadRequest,
                new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.AmbiguousFraming, null,
                    "The request body is framed ambiguously (Content-Length with Transfer-Encoding, or a transfer coding other than 'chunked'); send one framing."));
        }
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var problem = Check(raw);
        if (problem is null)
            return next(context);

        var action = context.GetAction();
        action.Path = raw.Length > 512 ? raw[..512] : raw;
        return ActionResponses.RefuseAsync(context, StatusCodes.Status400BadRequest,
            new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.PathNotCanonical, null,
                $"The request path is not in canonical form ({problem}); send the plain path."));
    }

    /// <summary>Returns why the raw request target is refused, or null when it is canonical.</summary>
    public static string? Check(string rawTarget)
    {
        var path = rawTarget.AsSpan();
        int query = path.IndexOf('?');
        if (query >= 0)
            path = path[..query];
        if (path.Length == 0 || path[0] != '/')
        {
            // Absolute-form ("GET http://host/p"): check the raw path after the authority. System.Uri
            // would resolve dot segments first and hide exactly what this guard looks for.
            int scheme = path.IndexOf("://", StringComparison.Ordinal);
            if (scheme <= 0 || !(path[..scheme].Equals("http", StringComparison.OrdinalIgnoreCase) || path[..scheme].Equals("https", StringComparison.OrdinalIgnoreCase)))
                return "not an origin-form path";
            var afterAuthority = path[(scheme + 3)..];
            int slash = afterAuthority.IndexOf('/');
            if (slash < 0)
                return "not an origin-form path";
            path = afterAuthority[slash..];
        }

        for (int i = 0; i < path.Length; i++)
        {
            char c = path[i];
            if (c == '\\')
                return "backslash";
            // Path parameters ("..;/" to Tomcat and Jetty) let an upstream see a different path.
            if (c == ';')
                return "';' in the path";
            if (c < 0x20 || c == 0x7f)
                return "control character";
            if (c == '%')
            {
                if (i + 2 >= path.Length || !IsHex(path[i + 1]) || !IsHex(path[i + 2]))
                    return "malformed percent-encoding";
                int value = (HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]);
                if (value is '/' or '\\' or '.' or '%' or ';' or < 0x20 or 0x7f)
                    return $"encoded '%{path.Slice(i + 1, 2).ToString().ToUpperInvariant()}'";
            }
        }

        // What the upstream decodes must be what was checked: the percent-encoded bytes must be valid UTF-8
        // (an overlong "%C0%AE" is a '.' to a lax decoder), and the raw target plain ASCII.
        if (DecodedProblem(path) is { } decoded)
            return decoded;

        int start = 1;
        while (start <= path.Length)
        {
            int end = path[start..].IndexOf('/');
            var segment = end < 0 ? path[start..] : path.Slice(start, end);
            if (segment is "." or "..")
                return "dot segment";
            if (segment.Length == 0 && end >= 0)
                return "empty segment ('//')";
            if (end < 0)
                break;
            start += end + 1;
        }
        return null;
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static string? DecodedProblem(ReadOnlySpan<char> path)
    {
        if (path.IndexOf('%') < 0)
            return path.ContainsAnyExceptInRange((char)0x20, (char)0x7e) ? "a character that is not ASCII" : null;
        // Decoded bytes are never more than the raw characters; Check has already validated every '%XX'.
        Span<byte> bytes = path.Length <= 512 ? stackalloc byte[path.Length] : new byte[path.Length];
        int n = 0;
        for (int i = 0; i < path.Length; i++)
        {
            char c = path[i];
            if (c > 0x7e)
                return "a character that is not ASCII";
            if (c == '%')
            {
                bytes[n++] = (byte)((HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]));
                i += 2;
            }
            else
            {
                bytes[n++] = (byte)c;
            }
        }
        // Utf8.IsValid refuses overlong forms, surrogates and truncated sequences, without allocating or throwing.
        return System.Text.Unicode.Utf8.IsValid(bytes[..n])
            ? null
            : "percent-encoding that is not valid UTF-8 (e.g. an overlong '%C0%AE')";
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>
    /// Whether a path-like value (a tool argument checked by a glob, a resource URI) is canonical, so
    /// the glob sees what the server will use: no dot segments, no empty segments past a scheme, no
    /// backslash, no percent-encoding.
    /// </summary>
    public static bool IsCanonicalValue(string value)
    {
        if (value.Contains('\\') || value.Contains('%'))
            return false;
        int scheme = value.IndexOf("://", StringComparison.Ordinal);
        var path = scheme >= 0 ? value[(scheme + 3)..] : value;
        if (path.Contains("//", StringComparison.Ordinal))
            return false;
        foreach (var segment in path.Split('/'))
        {
            if (segment is "." or "..")
                return false;
        }
        return true;
    }
}
