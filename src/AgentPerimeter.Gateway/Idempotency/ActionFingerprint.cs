using System.Security.Cryptography;
using System.Text;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Idempotency;

/// <summary>
/// What an action *is*, for binding an idempotency key or an approval to it: the route, and the MCP
/// tool with the SHA-256 of its arguments as sent, or the HTTP method, path, query and body hash.
/// </summary>
internal static class ActionFingerprint
{
    public static async Task<string> ComputeAsync(HttpContext context, ActionContext action)
    {
        if (action.Mcp is { } mcp)
            return $"mcp|{action.RouteId}|{mcp.Method}|{mcp.Target}|{mcp.ArgumentsHash}";

        var request = context.Request;
        string bodyHash = "";
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            request.EnableBuffering();
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await request.Body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
                sha.AppendData(buffer, 0, n);
            request.Body.Position = 0;
            bodyHash = Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        return $"http|{action.RouteId}|{action.Method}|{request.Path}{request.QueryString}|{bodyHash}";
    }

    /// <summary>A short, fixed-length form for storage keys and records.</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
