using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Testing;

/// <summary>
/// An MCP endpoint that answers with exactly the bytes a test scripts — the framings, media types and
/// shapes a hostile (or merely unusual) server may send — on a real Kestrel listener. Every request it
/// receives is kept (method, JSON-RPC method, body).
/// </summary>
public sealed class HostileMcpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HostileMcpServer(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();

    /// <summary>What reached the server: (HTTP method, JSON-RPC method or null, body).</summary>
    public ConcurrentQueue<(string HttpMethod, string? RpcMethod, string Body)> Received { get; } = new();

    /// <summary>The headers of each request received, in the order of <see cref="Received"/>.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> ReceivedHeaders { get; } = new();

    /// <summary>The scripted answer: content type (null for none) and raw body, given the request's JSON-RPC method and raw id.</summary>
    public Func<string?, string?, (string? ContentType, byte[] Body)> Answer { get; set; } = (_, id) => ("application/json", Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":" + (id ?? "null") + ",\"result\":{}}"));

    /// <summary>For a GET (the server-initiated stream): write whatever the test wants, then return.</summary>
    public Func<HttpContext, Task>? GetStream { get; set; }

    public static async Task<HostileMcpServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new HostileMcpServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    /// <summary>A tools/list result with these tool names (descriptions "Tool NAME").</summary>
    public static string ToolsResult(string id, params string[] names) =>
        "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"tools\":["
        + string.Join(",", names.Select(n => "{\"name\":\"" + n + "\",\"description\":\"Tool " + n + "\",\"inputSchema\":{\"type\":\"object\"}}"))
        + "]}}";

    private async Task HandleAsync(HttpContext ctx)
    {
        if (HttpMethods.IsGet(ctx.Request.Method))
        {
            ReceivedHeaders.Enqueue(ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            Received.Enqueue(("GET", null, ""));
            if (GetStream is { } stream)
                await stream(ctx);
            else
                ctx.Response.StatusCode = 405;
            return;
        }
        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        string? method = null, id = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("method", out var m))
                method = m.GetString();
            if (doc.RootElement.TryGetProperty("id", out var i))
                id = i.GetRawText();
        }
        catch (JsonException)
        {
        }
        ReceivedHeaders.Enqueue(ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        Received.Enqueue((ctx.Request.Method, method, body));
        var (contentType, answer) = Answer(method, id);
        if (contentType is not null)
            ctx.Response.ContentType = contentType;
        ctx.Response.ContentLength = answer.Length;
        await ctx.Response.Body.WriteAsync(answer);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
