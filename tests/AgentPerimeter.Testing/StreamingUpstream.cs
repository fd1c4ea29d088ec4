using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Testing;

/// <summary>
/// An upstream for bodies and timing: <c>POST /api/echo/*</c> answers the SHA-256 and length of what it
/// received; <c>GET /api/echo/blob/{n}</c> streams n deterministic bytes, pausing after the first MiB until
/// the test releases it; <c>GET /api/echo/slow</c> answers after 10 s unless cancelled.
/// </summary>
public sealed class StreamingUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private StreamingUpstream(WebApplication app) => _app = app;

    public string Url => _app.Urls.First();

    /// <summary>Released by the test once it has read the first MiB of a blob.</summary>
    public SemaphoreSlim BlobGate { get; } = new(0);

    public TaskCompletionSource SlowStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource SlowAborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static byte[] Blob(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    public static async Task<StreamingUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new StreamingUpstream(app);
        app.MapPost("/api/echo/{**rest}", async (HttpContext ctx) =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = await ctx.Request.Body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                total += n;
            }
            return Results.Json(new { length = total, sha256 = Convert.ToHexString(sha.GetHashAndReset()) });
        });
        app.MapGet("/api/echo/blob/{length:int}", async (HttpContext ctx, int length) =>
        {
            var blob = Blob(length);
            ctx.Response.ContentType = "application/octet-stream";
            ctx.Response.ContentLength = length;
            int first = Math.Min(length, 1024 * 1024);
            await ctx.Response.Body.WriteAsync(blob.AsMemory(0, first));
            await ctx.Response.Body.FlushAsync();
            if (!await upstream.BlobGate.WaitAsync(TimeSpan.FromSeconds(30)))
                throw new TimeoutException("the test never read the first MiB");
            for (int offset = first; offset < length; offset += 256 * 1024)
                await ctx.Response.Body.WriteAsync(blob.AsMemory(offset, Math.Min(256 * 1024, length - offset)));
        });
        app.MapGet("/api/echo/slow", async (HttpContext ctx) =>
        {
            upstream.SlowStarted.TrySetResult();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10), ctx.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                upstream.SlowAborted.TrySetResult();
                throw;
            }
            return Results.Json(new { slow = "done" });
        });
        app.MapGet("/api/echo/{**rest}", (HttpContext ctx) => Results.Json(new { upstream = "streaming", path = ctx.Request.Path.Value }));
        await app.StartAsync();
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
