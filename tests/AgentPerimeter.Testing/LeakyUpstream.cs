using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Testing;

/// <summary>
/// An upstream (real Kestrel, port 0) that records the credentials it receives and carelessly echoes
/// them back every way a real service might: in JSON, in an SSE event split across writes, in a
/// chunked body split mid-value, in a response header and in an error page.
/// </summary>
public sealed class LeakyUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LeakyUpstream(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public static async Task<LeakyUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new LeakyUpstream(app);
        app.Run(async ctx =>
        {
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            upstream.Received.Enqueue(new ReceivedRequest(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, ctx.Request.Path.Value ?? "", headers));
            // Whatever credential arrived: the header, bearer/basic Authorization, or the query.
            var leaked = ctx.Request.Headers["X-Api-Key"].ToString();
            if (leaked.Length == 0 && ctx.Request.Headers.Authorization.ToString() is { Length: > 0 } auth)
                leaked = auth.Contains(' ') ? auth[(auth.IndexOf(' ') + 1)..] : auth;
            if (leaked.Length == 0)
                leaked = ctx.Request.Query["api_key"].ToString();
            if (ctx.Request.Headers.Authorization.ToString().StartsWith("Basic ", StringComparison.Ordinal))
                leaked = Encoding.UTF8.GetString(Convert.FromBase64String(leaked)).Split(':', 2)[1];
            var mode = ctx.Request.Path.Value!.Split('/').Last();
            int half = leaked.Length / 2;
            switch (mode)
            {
                case "sse":
                    ctx.Response.ContentType = "text/event-stream";
                    await ctx.Response.WriteAsync("data: {\"key\":\"" + leaked[..half]);
                    await ctx.Response.Body.FlushAsync();
                    await Task.Delay(100);
                    await ctx.Response.WriteAsync(leaked[half..] + "\"}\n\n");
                    await ctx.Response.WriteAsync("data: {\"done\":true}\n\n");
                    break;
                case "chunked":
                    ctx.Response.ContentType = "text/plain";
                    await ctx.Response.WriteAsync("key=" + leaked[..half]);
                    await ctx.Response.Body.FlushAsync();
                    await Task.Delay(100);
                    await ctx.Response.WriteAsync(leaked[half..] + ";end");
                    break;
                case "gzip":
                    // A server that compresses whatever the client asked for.
                    ctx.Response.Headers.ContentEncoding = "gzip";
                    ctx.Response.ContentType = "application/json";
                    using (var gz = new System.IO.Compression.GZipStream(ctx.Response.Body, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                        await gz.WriteAsync(Encoding.UTF8.GetBytes($"{{\"received\":\"{leaked}\"}}"));
                    break;
                case "header":
                    ctx.Response.Headers["X-Debug-Key"] = leaked;
                    await ctx.Response.WriteAsync("see header");
                    break;
                case "error":
                    ctx.Response.StatusCode = 500;
                    ctx.Response.ContentType = "text/html";
                    await ctx.Response.WriteAsync($"<html><body><h1>Internal error</h1><pre>AuthException: key '{leaked}' rejected</pre></body></html>");
                    break;
                default:
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync($"{{\"received\":\"{leaked}\"}}");
                    break;
            }
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
