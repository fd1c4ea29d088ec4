using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Testing;

/// <summary>What the upstream actually received.</summary>
public sealed record ReceivedRequest(string Method, string RawTarget, string Path, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A real upstream on Kestrel (port 0) that records every request exactly as it arrived (raw target,
/// headers), so tests assert what crossed the perimeter, not what the gateway meant to send.
/// </summary>
public sealed class EchoUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoUpstream(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public string Url => _app.Urls.First();

    public static async Task<EchoUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new EchoUpstream(app);
        app.Run(async ctx =>
        {
            var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            upstream.Received.Enqueue(new ReceivedRequest(ctx.Request.Method, raw, ctx.Request.Path.Value ?? "", headers));
            if (ctx.Request.Path.StartsWithSegments("/api/status", out var rest) && int.TryParse(rest.Value?.Trim('/'), out var status))
                ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(JsonSerializer.Serialize(new { upstream = "echo", path = ctx.Request.Path.Value, raw }));
        });
        await app.StartAsync();
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
