using System.Diagnostics.Metrics;

namespace AgentPerimeter.Gateway.Metrics;

/// <summary>
/// Counts the requests Kestrel refuses before the perimeter's pipeline runs — a malformed request
/// line or header, headers or a target too large (431, 414), a bad <c>Transfer-Encoding</c>, a
/// repeated <c>Content-Length</c>, headers too slow — so they are not invisible:
/// <c>agentperimeter_rejected_requests_total{reason}</c>. Kestrel reports each as the <c>error.type</c>
/// of its <c>kestrel.connection.duration</c> measurement (ASP.NET Core 9+); only this gateway's own
/// Kestrel meter is listened to (several gateways may share a process in tests). They are recorded as
/// far as Kestrel tells: an operator log line with the reason and the listener's address, at most one
/// a reason every 10 s with the number since (a flood of garbage cannot flood the log). No audit record:
/// no request was read, so there is no agent, path or action to record.
/// </summary>
internal sealed partial class KestrelRejectionCounter(IMeterFactory meterFactory, PerimeterMetrics metrics, ILogger<KestrelRejectionCounter> logger, TimeProvider time)
    : IHostedService, IDisposable
{
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";

    /// <summary>Connection ends that are not a refused request (a client going away, the gateway stopping or aborting).</summary>
    private static readonly HashSet<string> NotRejections = new(StringComparer.Ordinal)
    {
        "connection_reset", "io_error", "aborted_by_app", "app_shutdown_timeout", "graceful_app_shutdown",
        "transport_completed", "client_goaway", "write_canceled", "min_response_data_rate", "output_queue_size_exceeded",
        "server_timeout", "keep_alive_timeout", "unexpected_end_of_request_content",
    };

    private MeterListener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == KestrelMeter && ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Name == "kestrel.connection.duration")
                    listener.EnableMeasurementEvents(instrument);
            },
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
        return Task.CompletedTask;
    }

    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (DateTimeOffset Logged, int Since)> _logged = new(StringComparer.Ordinal);

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? reason = null, address = null;
        object? port = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "error.type" when tag.Value is string r && !NotRejections.Contains(r):
                    reason = r.Length <= 64 ? r : "other";
                    break;
                case "server.address":
                    address = tag.Value as string;
                    break;
                case "server.port":
                    port = tag.Value;
                    break;
            }
        }
        if (reason is null)
            return;
        metrics.RejectedRequest(reason);
        var now = time.GetUtcNow();
        var entry = _logged.AddOrUpdate(reason, _ => (DateTimeOffset.MinValue, 1), (_, e) => (e.Logged, e.Since + 1));
        if (now - entry.Logged < LogEvery)
            return;
        _logged[reason] = (now, 0);
        Log.Refused(logger, reason, $"{address}:{port}", entry.Since);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 150, Level = LogLevel.Information, Message = "Kestrel refused a request before the perimeter's pipeline ({Reason}) on listener {Listener}; nothing was forwarded ({Count} such since the last line)")]
        public static partial void Refused(ILogger logger, string reason, string listener, int count);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        _listener = null;
        return Task.CompletedTask;
    }

    public void Dispose() => _listener?.Dispose();
}
