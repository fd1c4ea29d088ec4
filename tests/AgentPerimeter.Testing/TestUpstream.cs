using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
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
/// The one HTTP upstream of the tests: real Kestrel on port 0 that records every request exactly as it
/// arrived (raw target, headers), so tests assert what crossed the perimeter, not what the gateway meant
/// to send. What it answers is chosen by the request path, so one upstream serves every test:
/// <list type="table">
/// <item><term>anything else</term><description>200 with JSON: method, path, raw target, the credential it
/// received (<c>received</c>) and the length and SHA-256 of the request body.</description></item>
/// <item><term><c>…/status/{code}</c></term><description>the same JSON with that status code.</description></item>
/// <item><term><c>GET …/blob/{n}</c></term><description>n deterministic bytes (<see cref="Blob"/>), pausing
/// after the first MiB until the test releases <see cref="BlobGate"/>.</description></item>
/// <item><term><c>GET …/slow</c></term><description>never answers: it signals <see cref="SlowStarted"/> and
/// waits until the request is aborted, then signals <see cref="SlowAborted"/>.</description></item>
/// <item><term><c>…/sse</c>, <c>…/chunked</c>, <c>…/gzip</c>, <c>…/header</c>, <c>…/error</c></term>
/// <description>echo the credential it received carelessly, as a real service might: in an SSE event split
/// across writes, in a chunked body split mid-value, gzip-compressed, in a response header, in an error page.</description></item>
/// </list>
/// The credential is whatever arrived: the X-Api-Key header, a bearer or basic Authorization, or the api_key query.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    private TestUpstream(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>Released by the test once it has read the first MiB of a blob.</summary>
    public SemaphoreSlim BlobGate { get; } = new(0);

    public TaskCompletionSource SlowStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource SlowAborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The deterministic bytes <c>GET …/blob/{length}</c> answers.</summary>
    public static byte[] Blob(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    public static async Task<TestUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new TestUpstream(app);
        app.Run(upstream.AnswerAsync);
        await app.StartAsync();
        return upstream;
    }

    private async Task AnswerAsync(HttpContext ctx)
    {
        var raw = ctx.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        Received.Enqueue(new ReceivedRequest(ctx.Request.Method, raw, ctx.Request.Path.Value ?? "", headers));
        var segments = (ctx.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var last = segments.LastOrDefault() ?? "";
        var isGet = HttpMethods.IsGet(ctx.Request.Method);

        // A slow action (a build, a deploy): received and recorded above, then works for this long.
        if (int.TryParse(ctx.Request.Headers["X-Test-Delay-Ms"], out var delayMs) && delayMs > 0)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
            await Task.Delay(delayMs, either.Token);
        }
        // An answer with no body (202 Accepted, 204 No Content, an empty 200).
        if (int.TryParse(ctx.Request.Headers["X-Test-Empty-Status"], out var emptyStatus))
        {
            ctx.Response.StatusCode = emptyStatus;
            return;
        }

        if (isGet && segments.Length >= 2 && segments[^2] == "blob" && int.TryParse(last, out var length))
            await BlobAsync(ctx, length);
        else if (isGet && last == "slow")
            await SlowAsync(ctx);
        else if (last is "sse" or "chunked" or "gzip" or "header" or "error")
            await LeakAsync(ctx, last, Credential(ctx.Request));
        else
            await EchoAsync(ctx, raw, segments);
    }

    private static async Task EchoAsync(HttpContext ctx, string raw, string[] segments)
    {
        int status = Array.IndexOf(segments, "status") is var at and >= 0 && at + 1 < segments.Length && int.TryParse(segments[at + 1], out var s) ? s : 200;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, n);
            total += n;
        }
        ctx.Response.StatusCode = status;
        await ctx.Response.WriteAsJsonAsync(new
        {
            upstream = "test",
            method = ctx.Request.Method,
            path = ctx.Request.Path.Value,
            raw,
            received = Credential(ctx.Request),
            length = total,
            sha256 = Convert.ToHexString(sha.GetHashAndReset()),
        });
    }

    private async Task BlobAsync(HttpContext ctx, int length)
    {
        var blob = Blob(length);
        ctx.Response.ContentType = "application/octet-stream";
        ctx.Response.ContentLength = length;
        int first = Math.Min(length, 1024 * 1024);
        await ctx.Response.Body.WriteAsync(blob.AsMemory(0, first));
        await ctx.Response.Body.FlushAsync();
        if (!await BlobGate.WaitAsync(TimeSpan.FromSeconds(30), ctx.RequestAborted))
            throw new TimeoutException("the test never read the first MiB");
        for (int offset = first; offset < length; offset += 256 * 1024)
            await ctx.Response.Body.WriteAsync(blob.AsMemory(offset, Math.Min(256 * 1024, length - offset)));
    }

    private async Task SlowAsync(HttpContext ctx)
    {
        SlowStarted.TrySetResult();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, either.Token);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            SlowAborted.TrySetResult();
            throw;
        }
    }

    private static async Task LeakAsync(HttpContext ctx, string mode, string leaked)
    {
        int half = leaked.Length / 2;
        switch (mode)
        {
            // The pauses after a flush are pacing, not waiting: they let the gateway read the first half
            // on its own, so its scrubber meets a value split across reads.
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
                using (var gz = new GZipStream(ctx.Response.Body, CompressionLevel.Fastest, leaveOpen: true))
                    await gz.WriteAsync(Encoding.UTF8.GetBytes($"{{\"received\":\"{leaked}\"}}"));
                break;
            case "header":
                ctx.Response.Headers["X-Debug-Key"] = leaked;
                await ctx.Response.WriteAsync("see header");
                break;
            default:
                ctx.Response.StatusCode = 500;
                ctx.Response.ContentType = "text/html";
                await ctx.Response.WriteAsync($"<html><body><h1>Internal error</h1><pre>AuthException: key '{leaked}' rejected</pre></body></html>");
                break;
        }
    }

    /// <summary>Whatever credential arrived: the X-Api-Key header, bearer or basic Authorization, or the api_key query.</summary>
    private static string Credential(HttpRequest request)
    {
        var key = request.Headers["X-Api-Key"].ToString();
        if (key.Length > 0)
            return key;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            try
            {
                return Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..])).Split(':', 2) is [_, var password] ? password : "";
            }
            catch (FormatException)
            {
                return "";
            }
        }
        if (authorization.Length > 0)
            return authorization.Contains(' ') ? authorization[(authorization.IndexOf(' ') + 1)..] : authorization;
        return request.Query["api_key"].ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
