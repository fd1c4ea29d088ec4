using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentPerimeter.Testing;

/// <summary>
/// A real MCP server built with the official C# SDK (Streamable HTTP, stateful sessions) on Kestrel
/// port 0. It records every JSON-RPC method and tool call it receives, so tests can assert what the
/// server saw, and lets a test change a tool's description (a rug pull).
/// </summary>
public sealed class TestMcpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestMcpServer(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();
    public string McpUrl => Url + "/mcp";

    /// <summary>Every JSON-RPC method the server received, in order ("tools/call:deploy" for calls).</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>Tool descriptions served by tools/list; change one to simulate a rug pull.</summary>
    public ConcurrentDictionary<string, string> Descriptions { get; } = new()
    {
        ["search_docs"] = "Search the documentation.",
        ["read_file"] = "Read a file from the workspace.",
        ["deploy"] = "Deploy to an environment.",
        ["slow_job"] = "Run a job that reports progress.",
    };

    /// <summary>The Authorization header of every POST the server received ("" when absent).</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>The server session of the last tool call, to push unsolicited messages on its GET stream.</summary>
    public McpServer? LastSession { get; private set; }

    /// <summary>
    /// How long each step of the <c>slow_job</c> tool takes before it reports progress. Real time on
    /// purpose: the streaming tests assert that the notifications reach the client this far apart
    /// (buffered anywhere, they would arrive together with the result).
    /// </summary>
    public static readonly TimeSpan SlowJobStep = TimeSpan.FromMilliseconds(400);

    public IEnumerable<string> ToolCalls => Received.Where(r => r.StartsWith("tools/call", StringComparison.Ordinal));

    /// <param name="serveModernClients">
    /// Also serve MCP 2026-07-28 clients, stateless as that version requires (sessions stay for clients that
    /// initialize). Off by default: the session tests rely on the plain stateful mode.
    /// </param>
    public static async Task<TestMcpServer> StartAsync(bool serveModernClients = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        TestMcpServer? server = null;
        builder.Services.AddMcpServer()
            .WithHttpTransport(o =>
            {
                if (serveModernClients)
                    o.SessionMode = ModelContextProtocol.AspNetCore.HttpServerSessionMode.StatefulForInitializeClients;
                else
                    o.Stateless = false;
            })
            .WithListToolsHandler((ctx, ct) => ValueTask.FromResult(new ListToolsResult
            {
                Tools = server!.Descriptions.OrderBy(d => d.Key).Select(d => new Tool
                {
                    Name = d.Key,
                    Description = d.Value,
                    InputSchema = JsonSerializer.Deserialize<JsonElement>("""{"type":"object","properties":{"text":{"type":"string"},"path":{"type":"string"},"env":{"type":"string"},"steps":{"type":"integer"}}}"""),
                }).ToList(),
            }))
            .WithListResourcesHandler((ctx, ct) => ValueTask.FromResult(new ListResourcesResult
            {
                Resources =
                [
                    new Resource { Uri = "docs://public/readme", Name = "readme" },
                    new Resource { Uri = "docs://private/salaries", Name = "salaries" },
                ],
            }))
            .WithReadResourceHandler((ctx, ct) => ValueTask.FromResult(new ReadResourceResult
            {
                Contents = [new TextResourceContents { Uri = ctx.Params!.Uri, Text = $"contents of {ctx.Params.Uri}" }],
            }))
            .WithListPromptsHandler((ctx, ct) => ValueTask.FromResult(new ListPromptsResult
            {
                Prompts = [new Prompt { Name = "summarize" }, new Prompt { Name = "exfiltrate" }],
            }))
            .WithGetPromptHandler((ctx, ct) => ValueTask.FromResult(new GetPromptResult
            {
                Messages = [new PromptMessage { Role = Role.User, Content = new TextContentBlock { Text = $"prompt {ctx.Params!.Name}" } }],
            }))
            .WithCallToolHandler(async (ctx, ct) =>
            {
                var name = ctx.Params!.Name;
                server!.LastSession = ctx.Server;
                var args = ctx.Params.Arguments ?? new Dictionary<string, JsonElement>();
                string Arg(string key) => args.TryGetValue(key, out var v) ? v.ToString() : "";
                if (name == "slow_job")
                {
                    int steps = args.TryGetValue("steps", out var s) ? s.GetInt32() : 4;
                    for (int i = 1; i <= steps; i++)
                    {
                        // Simulated slow work, not a wait for anything: see SlowJobStep.
                        await Task.Delay(SlowJobStep, ct);
                        if (ctx.Params.ProgressToken is { } token)
                            await ctx.Server.NotifyProgressAsync(token, new ProgressNotificationValue { Progress = i, Total = steps, Message = $"step {i}" }, cancellationToken: ct);
                    }
                }
                return new CallToolResult { Content = [new TextContentBlock { Text = $"{name} ran with text={Arg("text")} path={Arg("path")} env={Arg("env")}" }] };
            });

        var app = builder.Build();
        server = new TestMcpServer(app);
        app.Use(async (ctx, next) =>
        {
            if (HttpMethods.IsPost(ctx.Request.Method))
            {
                server.Authorizations.Enqueue(ctx.Request.Headers.Authorization.ToString());
                ctx.Request.EnableBuffering();
                try
                {
                    using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
                    var root = doc.RootElement;
                    var method = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("method", out var m) ? m.GetString() : "(response)";
                    if (method == "tools/call" && root.GetProperty("params").TryGetProperty("name", out var n))
                        method += ":" + n.GetString();
                    server.Received.Enqueue(method ?? "(none)");
                }
                catch (JsonException)
                {
                    server.Received.Enqueue("(unparseable)");
                }
                ctx.Request.Body.Position = 0;
            }
            await next();
        });
        app.MapMcp("/mcp");
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
