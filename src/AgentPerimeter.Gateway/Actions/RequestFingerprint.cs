using System.Security.Cryptography;
using System.Text;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// What an action *is*, for binding an idempotency key or an approval to it: the route, and the MCP
/// tool with the SHA-256 of its arguments as sent, or the HTTP method, path, query and body hash.
/// Computed once per action (the body is buffered and hashed once, whichever stage asks first).
/// </summary>
public static class RequestFingerprint
{
    public static async Task<string> ComputeAsync(HttpContext context, ActionContext action)
    {
        if (action.Mcp is { } mcp)
            return $"mcp|{action.RouteId}|{mcp.Method}|{mcp.Target}|{mcp.ArgumentsHash}";

        var request = context.Request;
        string bodyHash = "";
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = await BufferBodyAsync(context, action).ConfigureAwait(false);
            bodyHash = Convert.ToHexStringLower(SHA256.HashData(body.Span));
        }
        return $"http|{action.RouteId}|{action.Method}|{request.Path}{request.QueryString}|{bodyHash}";
    }

    /// <summary>
    /// Reads the request body once into the action (<see cref="ActionContext.BufferedBody"/>) and
    /// replaces the request stream with the buffer, so what a stage checked is what is forwarded.
    /// </summary>
    public static async Task<ReadOnlyMemory<byte>> BufferBodyAsync(HttpContext context, ActionContext action)
    {
        if (action.BufferedBody is { } buffered)
            return buffered;
        var request = context.Request;
        // Grow as bytes arrive: a claimed Content-Length alone reserves no memory. Kestrel caps the size.
        var copy = new MemoryStream(request.ContentLength is > 0 and < 64 * 1024 ? (int)request.ContentLength.Value : 4096);
        await request.Body.CopyToAsync(copy, context.RequestAborted).ConfigureAwait(false);
        var bytes = copy.GetBuffer().AsMemory(0, (int)copy.Length);
        action.BufferedBody = bytes;
        copy.Position = 0;
        request.Body = copy;
        return bytes;
    }

    /// <summary>A short, fixed-length form for storage keys and records.</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
