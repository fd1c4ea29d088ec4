using System.Diagnostics.Metrics;

namespace AgentPerimeter.Gateway.Metrics;

/// <summary>
/// Counts the requests Kestrel refuses before the perimeter's pipeline runs — a malformed request
/// line or header, headers or a target too large (431, 414), a bad <c>Transfer-Encoding</c>, a
/// repeated <c>Content-Length</c>, headers too slow — so they are not invisible:
/// <c>agentperimeter_rejected_requests_total{reason}</c>. Kestrel reports each as the <c>error.type</c>
/// of its <c>kestrel.connection.duration</c> measurement (ASP.NET Core 9+); only this gateway's own
/// Kestrel meter is listened to (several gateways may share a process in tests).
/// </summary>
internal sealed class KestrelRejectionCounter(IMeterFactory meterFactory, PerimeterMetrics metrics) : IHostedService, IDisposable
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

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "error.type" && tag.Value is string reason && !NotRejections.Contains(reason))
            {
                metrics.RejectedRequest(reason.Length <= 64 ? reason : "other");
                return;
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _listener?.Dispose();
        _listener = null;
        return Task.CompletedTask;
    }

    public void Dispose() => _listener?.Dispose();
}
