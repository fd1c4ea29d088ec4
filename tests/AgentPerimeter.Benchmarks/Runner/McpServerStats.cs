using System.Text.Json;

namespace AgentPerimeter.Benchmarks;

/// <summary>The MCP server's own counts: <c>echo</c> calls, uploads, and the bytes of all uploads it read.</summary>
internal sealed record McpServerStats(long EchoCalls, long Uploads, long UploadBytes)
{
    public static async Task<McpServerStats> FetchAsync(HttpClient http, Uri mcpServer, CancellationToken ct)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(mcpServer, McpBench.StatsPath.TrimStart('/')), ct).ConfigureAwait(false));
        return new McpServerStats(json.RootElement.GetProperty("echo").GetInt64(), json.RootElement.GetProperty("uploads").GetInt64(),
            json.RootElement.GetProperty("uploadBytes").GetInt64());
    }
}
