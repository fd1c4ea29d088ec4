using System.ComponentModel;
using ModelContextProtocol.Server;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The MCP part of the benchmark: a stateless MCP server (official MCP C# SDK, Streamable HTTP) with one
/// tool, <c>echo</c>, run as its own child process (<c>serve-mcp</c>), and the one request every MCP
/// load run sends: a <c>tools/call</c> of <c>echo</c>, with no <c>initialize</c> before it (stateless).
/// </summary>
internal static class McpBench
{
    public const string ServeMcpCommand = "serve-mcp";

    /// <summary>Where the server serves MCP.</summary>
    public const string McpPath = "/mcp";

    /// <summary>
    /// The gateway route with MCP inspection (<c>Perimeter.Mcp</c>). Not <c>/mcp</c>: the shipped routes
    /// already map <c>/mcp</c> (demo-mcp), and two routes with one path make every request to it fail.
    /// </summary>
    public const string InspectedPath = "/inspected/mcp";

    /// <summary>The gateway route that forwards the same requests to the same server without MCP inspection.</summary>
    public const string RawPath = "/raw/mcp";

    public const string InspectedRoute = "bench-mcp";
    public const string RawRoute = "bench-mcp-raw";
    public const string Cluster = "bench-mcp";
    public const string Tool = "echo";
    public const string Text = "hello";

    public const string ToolCallBody = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}""";
    public const string ContentType = "application/json";
    public const string Accept = "application/json, text/event-stream";

    /// <summary>The server's count of <c>echo</c> calls and uploads: a check that every answered request reached the server.</summary>
    public const string StatsPath = "/stats";

    /// <summary>
    /// The server's upload endpoint: reads a POST body to its end, discards it, and answers
    /// <c>{"bytes":N}</c>, the number of bytes it received.
    /// </summary>
    public const string UploadPath = "/upload";

    public static async Task<WebApplication> StartServerAsync(CancellationToken ct)
    {
        var builder = Servers.NewBuilder();
        builder.Services.AddMcpServer()
            .WithHttpTransport(o => o.Stateless = true)
            .WithTools<EchoTool>();
        var app = builder.Build();
        app.MapMcp(McpPath);
        app.MapPost(UploadPath, UploadAsync);
        app.MapGet(StatsPath, () => Results.Json(new { echo = EchoTool.Calls, uploads = Interlocked.Read(ref s_uploads), uploadBytes = Interlocked.Read(ref s_uploadBytes) }));
        await app.StartAsync(ct).ConfigureAwait(false);
        return app;
    }

    private static long s_uploads, s_uploadBytes;

    /// <summary>Reads the body to its end and discards it; answers its length.</summary>
    private static async Task<IResult> UploadAsync(HttpRequest request, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            total += n;
        Interlocked.Increment(ref s_uploads);
        Interlocked.Add(ref s_uploadBytes, total);
        return Results.Json(new { bytes = total });
    }

    /// <summary>The MCP server child (<c>serve-mcp</c>).</summary>
    public static async Task<int> ServeChildAsync(string[] args)
    {
        if (args.Length != 1)
        {
            await Console.Error.WriteLineAsync($"usage: AgentPerimeter.Benchmarks {ServeMcpCommand}").ConfigureAwait(false);
            return 2;
        }
        return await Servers.ServeChildAsync(await StartServerAsync(CancellationToken.None).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Writes the wrk script that turns every request into the MCP <c>tools/call</c>; returns its path.</summary>
    public static string WriteWrkScript(string directory)
    {
        var path = Path.Combine(directory, "mcp-tools-call.lua");
        File.WriteAllText(path, $"""
            -- MCP tools/call over Streamable HTTP, as an agent sends it; the bearer token comes from wrk -H.
            wrk.method = "POST"
            wrk.body = [[{ToolCallBody}]]
            wrk.headers["Content-Type"] = "{ContentType}"
            wrk.headers["Accept"] = "{Accept}"

            """);
        return path;
    }
}

/// <summary>The benchmark server's only tool.</summary>
[McpServerToolType]
internal sealed class EchoTool
{
    private static long s_calls;

    public static long Calls => Interlocked.Read(ref s_calls);

    [McpServerTool(Name = McpBench.Tool), Description("Returns the text it is given.")]
    public static string Echo([Description("Text to return")] string text)
    {
        Interlocked.Increment(ref s_calls);
        return text;
    }
}
