using System.Net;

namespace AgentPerimeter.Harness;

/// <summary>
/// Retries the model API's 429 and 5xx answers (and lost connections) with exponential backoff and
/// jitter, waiting at least what <c>retry-after</c> / <c>retry-after-ms</c> asks. The SDK's own retries
/// are turned off so there is one retry policy, logged.
/// </summary>
public sealed partial class ModelRetryHandler(ILogger logger, int maxAttempts = 5, TimeProvider? time = null) : DelegatingHandler(new SocketsHttpHandler())
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public int Retries;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // The SDK's content is a buffered JSON body: read it once, resend it as often as needed.
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var headers = request.Content?.Headers.ToList();
        for (int attempt = 1; ; attempt++)
        {
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                foreach (var h in headers!)
                    request.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
            }
            HttpResponseMessage? response = null;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (!IsRetryable(response.StatusCode) || attempt >= maxAttempts)
                    return response;
            }
            catch (HttpRequestException ex) when (attempt < maxAttempts)
            {
                Log.ConnectionFailed(logger, attempt, ex.Message);
            }
            var delay = Backoff(attempt, response, _time.GetUtcNow());
            if (response is not null)
                Log.Retrying(logger, (int)response.StatusCode, attempt, delay.TotalMilliseconds);
            response?.Dispose();
            Interlocked.Increment(ref Retries);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool IsRetryable(HttpStatusCode status) => status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout
        or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout || (int)status == 529;

    internal static TimeSpan Backoff(int attempt, HttpResponseMessage? response, DateTimeOffset now)
    {
        var exponential = TimeSpan.FromMilliseconds(Math.Min(30_000, 500 * Math.Pow(2, attempt - 1)) * (0.5 + Random.Shared.NextDouble() / 2));
        TimeSpan? asked = null;
        if (response is not null)
        {
            if (response.Headers.TryGetValues("retry-after-ms", out var ms) && double.TryParse(ms.First(), out var m))
                asked = TimeSpan.FromMilliseconds(m);
            else if (response.Headers.RetryAfter?.Delta is { } delta)
                asked = delta;
            else if (response.Headers.RetryAfter?.Date is { } date)
                asked = date - now;
        }
        return asked is { } a && a > TimeSpan.Zero ? (a > TimeSpan.FromMinutes(2) ? TimeSpan.FromMinutes(2) : a) : exponential;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Model API answered {Status} (attempt {Attempt}); retrying in {DelayMs:0} ms")]
        public static partial void Retrying(ILogger logger, int status, int attempt, double delayMs);

        [LoggerMessage(EventId = 31, Level = LogLevel.Warning, Message = "Model API unreachable (attempt {Attempt}): {Error}")]
        public static partial void ConnectionFailed(ILogger logger, int attempt, string error);
    }
}
