using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// The gateway's tunnels: their pools of live connections, connector authentication, and the record
/// of every connect, disconnect and refusal (audit log, log and metrics).
/// </summary>
public sealed partial class TunnelRegistry
{
    /// <summary>Host names inside the forwarder for tunnel destinations (".invalid" never resolves in DNS).</summary>
    public const string HostSuffix = ".tunnel.invalid";

    private readonly FrozenDictionary<string, TunnelDefinition> _definitions;
    private readonly FrozenDictionary<string, TunnelPool> _pools;
    private readonly IActionRecorder _recorder;
    private readonly PerimeterMetrics _metrics;
    private readonly SecretScrubber _scrubber;
    private readonly TimeProvider _time;
    private readonly ILogger<TunnelRegistry> _logger;

    public TunnelRegistry(DeclaredTunnels tunnels, IActionRecorder recorder, PerimeterMetrics metrics, SecretScrubber scrubber, TimeProvider time, ILogger<TunnelRegistry> logger)
    {
        _definitions = tunnels.Definitions;
        _recorder = recorder;
        _metrics = metrics;
        _scrubber = scrubber;
        _time = time;
        _logger = logger;
        _pools = _definitions.Keys.ToFrozenDictionary(name => name, name =>
        {
            var pool = new TunnelPool(name, OnConnectorLeft);
            pool.LiveChanged = live => metrics.TunnelConnections(name, live);
            metrics.TunnelConnections(name, 0);
            return pool;
        }, StringComparer.Ordinal);
        // Credentials are secrets like any other: never in a log line or record.
        foreach (var definition in _definitions.Values)
        {
            if (definition.ReadCredential().Value is { } value)
                scrubber.Remember("tunnel:" + definition.Name, value);
        }
    }

    /// <summary>How long a request waits for a free connection when every connection of its tunnel is busy.</summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most connections all connectors together may hold open for one tunnel.</summary>
    public int MaxConnectionsPerTunnel { get; set; } = 1024;

    public IEnumerable<TunnelPool> Pools => _pools.Values;

    public TunnelPool? Pool(string name) => _pools.GetValueOrDefault(name);

    public TunnelDefinition? Definition(string name) => _definitions.GetValueOrDefault(name);

    /// <summary>Compares the presented credential with the tunnel's (fixed time), and with the others' to name a claim of another tunnel.</summary>
    public CredentialCheck Check(string tunnel, string presented)
    {
        var own = _definitions[tunnel].ReadCredential();
        if (own.Value is null)
            return CredentialCheck.Unreadable;
        _scrubber.Remember("tunnel:" + tunnel, own.Value); // a rotated value is known from its first use
        if (Same(presented, own.Value))
            return CredentialCheck.Valid;
        foreach (var other in _definitions.Values)
        {
            if (other.Name != tunnel && other.ReadCredential().Value is { } value && Same(presented, value))
                return CredentialCheck.OtherTunnel;
        }
        return CredentialCheck.Invalid;
    }

    private static bool Same(string presented, string expected) => SecretCompare.FixedTimeEquals(presented, expected);

    private void OnConnectorLeft(TunnelPool pool, string connector) =>
        _ = RecordAsync("disconnected", pool.Name, connector, remote: null, code: null, reason: null);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string?, string, string?), DateTimeOffset> _lastRefusal = new();

    /// <summary>
    /// Refusals come from unauthenticated callers: every one is counted, but only the first per
    /// address, tunnel and reason each minute is written to the audit log and the log, so nobody can
    /// flood the audit log by knocking on the tunnel listener.
    /// </summary>
    public Task<bool> RecordRefusalAsync(string tunnel, string connector, string? remote, string code, string reason)
    {
        var now = _time.GetUtcNow();
        var key = (remote, tunnel, code);
        if (_lastRefusal.TryGetValue(key, out var last) && now - last < TimeSpan.FromMinutes(1))
        {
            _metrics.TunnelEvent(_definitions.ContainsKey(tunnel) ? tunnel : "unknown", "refused");
            return Task.FromResult(true);
        }
        if (_lastRefusal.Count > 10_000)
            _lastRefusal.Clear();
        _lastRefusal[key] = now;
        return RecordAsync("refused", tunnel, connector, remote, code, reason);
    }

    /// <summary>Writes a tunnel event to the audit log (durable when the task completes), the log and the metrics.</summary>
    public Task<bool> RecordAsync(string eventName, string tunnel, string connector, string? remote, string? code, string? reason)
    {
        var known = _definitions.ContainsKey(tunnel);
        _metrics.TunnelEvent(known ? tunnel : "unknown", eventName);
        if (eventName == "refused")
            Log.Refused(_logger, tunnel, connector, remote, code ?? "", reason ?? "");
        else
            Log.Changed(_logger, tunnel, connector, eventName, Pool(tunnel)?.LiveConnections ?? 0);

        return _recorder.RecordEventAsync(new PerimeterEvent("tunnel", eventName,
        [
            new("tunnel", Cap(tunnel)),
            new("connector", Cap(connector)),
            new("remote", remote),
            new("code", code),
            new("reason", reason),
            new("connections", Pool(tunnel)?.LiveConnections ?? 0),
        ]));
    }

    private static string Cap(string value) => value.Length <= 64 ? value : value[..64] + "…";

    private static partial class Log
    {
        [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Tunnel {Tunnel}: connector {Connector} {Event} ({Connections} connections open)")]
        public static partial void Changed(ILogger logger, string tunnel, string connector, string @event, int connections);

        [LoggerMessage(EventId = 61, Level = LogLevel.Warning, Message = "Tunnel {Tunnel}: connector {Connector} from {Remote} refused: {Code} ({Reason})")]
        public static partial void Refused(ILogger logger, string tunnel, string connector, string? remote, string code, string reason);
    }
}
