using AgentPerimeter.Gateway.Actions;
using Prometheus;

namespace AgentPerimeter.Gateway.Metrics;

/// <summary>
/// The gateway's Prometheus metrics, created once per gateway in its own registry (so several
/// gateways in one test process never mix counts). Names, units and labels are documented in the
/// metrics table of docs/metrics-and-alerts.md and read by <c>dashboards/agentperimeter.json</c>.
/// </summary>
public sealed class PerimeterMetrics
{
    private readonly Counter _actions;
    private readonly Counter _denials;
    private readonly Counter _outcomes;
    private readonly Histogram _duration;
    private readonly Counter _auditErrors;
    private readonly Gauge _auditDurability;
    private readonly Counter _outcomeUnknown;
    private readonly Histogram _auditBatch;
    private readonly Counter _policyReloads;
    private readonly Counter _sessions;
    private readonly Counter _mcpActions;
    private readonly Counter _serverMessages;
    private readonly Counter _secretInjections;
    private readonly Counter _rateLimits;
    private readonly Counter _rateLimitStoreErrors;
    private readonly Gauge _tunnelConnections;
    private readonly Counter _tunnelRequests;
    private readonly Counter _tunnelEvents;
    private readonly Counter _inboundHandshakes;
    private readonly Gauge _egressTunnels;
    private readonly Counter _rejectedRequests;
    private readonly Gauge _ready;
    private readonly Counter _mcpProtocolActions;
    private readonly Gauge _limitStoreUp;

    public PerimeterMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        _mcpProtocolActions = factory.CreateCounter("agentperimeter_mcp_protocol_actions_total",
            "MCP actions by the protocol version they were sent under (known versions, else other / none).",
            ["work_type", "route", "protocol_version"]);
        _ready = factory.CreateGauge("agentperimeter_ready",
            "1 while the gateway is ready to take actions (audit log writable, limit store reachable), else 0; as /readyz answers.");
        _limitStoreUp = factory.CreateGauge("agentperimeter_limit_store_up",
            "1 while the rate-limit and revocation store (Redis, or memory) answers, else 0.");
        var version = typeof(PerimeterMetrics).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        factory.CreateGauge("agentperimeter_build_info", "The running build: version and source commit (value 1).", ["version", "commit"])
            .WithLabels(plus < 0 ? version : version[..plus], plus < 0 ? "unknown" : version[(plus + 1)..]).Set(1);
        // .NET runtime and process metrics (GC, thread pool, CPU, memory) in this gateway's registry.
        DotNetStats.Register(Registry);
        _rejectedRequests = factory.CreateCounter(
            "agentperimeter_rejected_requests_total",
            "Requests Kestrel refused before the perimeter's pipeline saw them (malformed request line or headers, headers too large, bad framing, too slow), by Kestrel's reason.",
            ["reason"]);
        _actions = factory.CreateCounter(
            "agentperimeter_actions_total",
            "Actions decided by the perimeter, one per HTTP request or MCP JSON-RPC request.",
            ["work_type", "route", "kind", "decision", "governed"]);
        _denials = factory.CreateCounter(
            "agentperimeter_denials_total",
            "Actions the perimeter refused, by reason code (policy_denied, missing_token, path_not_canonical, ...).",
            ["work_type", "route", "code"]);
        _outcomes = factory.CreateCounter(
            "agentperimeter_action_outcomes_total",
            "Actions by what happened after the decision: forwarded, refused, answered, client_gone, limited, degraded, unavailable, upstream_failed, replayed, not_inspectable, gateway_error.",
            ["work_type", "route", "kind", "outcome"]);
        _duration = factory.CreateHistogram(
            "agentperimeter_action_duration_seconds",
            "Time from the action's arrival to its audit record (response start), in seconds.",
            new HistogramConfiguration
            {
                LabelNames = ["work_type", "route", "kind", "decision"],
                Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
        _auditErrors = factory.CreateCounter(
            "agentperimeter_audit_write_errors_total",
            "Audit batches that could not be written durably; each refused its actions.");
        _auditDurability = factory.CreateGauge(
            "agentperimeter_audit_durability",
            "Info metric (always 1): the audit log's durability mode — fsync (power-loss safe) or write (process-crash safe).",
            ["mode"]);
        _outcomeUnknown = factory.CreateCounter(
            "agentperimeter_audit_outcome_unknown_total",
            "Intents found at startup with no outcome (the gateway stopped mid-action); each got an outcome_unknown record.");
        _auditBatch = factory.CreateHistogram(
            "agentperimeter_audit_batch_records",
            "Records written by one batch (group commit: one write, and in fsync mode one fsync).",
            new HistogramConfiguration { Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        _policyReloads = factory.CreateCounter(
            "agentperimeter_policy_reloads_total",
            "Policy or route file changes seen, by result (applied, rejected).",
            ["result"]);
        _mcpActions = factory.CreateCounter(
            "agentperimeter_mcp_actions_total",
            "MCP actions (one per JSON-RPC message an agent sent), by MCP method and tool.",
            ["work_type", "route", "mcp_method", "tool", "decision"]);
        _serverMessages = factory.CreateCounter(
            "agentperimeter_mcp_server_messages_total",
            "Notifications and requests MCP servers streamed to agents (audited, not agent actions).",
            ["route", "mcp_method"]);
        _secretInjections = factory.CreateCounter(
            "agentperimeter_secret_injections_total",
            "Secrets injected into forwarded requests, by secret name and route (never values).",
            ["secret", "route"]);
        _rateLimits = factory.CreateCounter(
            "agentperimeter_ratelimit_decisions_total",
            "Rate-limit checks by work type and result (allowed, limited, degraded, unavailable).",
            ["work_type", "result"]);
        _rateLimitStoreErrors = factory.CreateCounter(
            "agentperimeter_ratelimit_store_errors_total",
            "Rate-limit store calls that failed or timed out.");
        _tunnelConnections = factory.CreateGauge(
            "agentperimeter_tunnel_connections",
            "Connections connectors hold open to this gateway, per tunnel (idle and busy).",
            ["tunnel"]);
        _tunnelRequests = factory.CreateCounter(
            "agentperimeter_tunnel_requests_total",
            "Requests forwarded through tunnels, by result (forwarded, unavailable, failed).",
            ["tunnel", "result"]);
        _tunnelEvents = factory.CreateCounter(
            "agentperimeter_tunnel_connector_events_total",
            "Connector instances connecting, disconnecting and being refused, per tunnel.",
            ["tunnel", "event"]);
        _inboundHandshakes = factory.CreateCounter(
            "agentperimeter_inbound_tls_refusals_total",
            "Client certificates the inbound (mutual TLS) listener refused at the handshake, by reason.",
            ["reason"]);
        _egressTunnels = factory.CreateGauge(
            "agentperimeter_egress_open",
            "Egress tunnels (CONNECT) and plain HTTP requests open through the egress listener right now.");
        _sessions = factory.CreateCounter(
            "agentperimeter_sessions_issued_total",
            "Session tokens minted by the gateway's own issuer.",
            ["work_type"]);
    }

    public CollectorRegistry Registry { get; }

    public void Action(ActionContext action, bool governed)
    {
        var workType = action.WorkType ?? "none";
        var route = action.RouteId ?? "none";
        var kind = action.KindLabel;
        var decision = action.DecisionLabel;
        _actions.WithLabels(workType, route, kind, decision, governed ? "true" : "false").Inc();
        _outcomes.WithLabels(workType, route, kind, action.OutcomeLabel).Inc();
        _duration.WithLabels(workType, route, kind, decision).Observe(action.Elapsed.TotalSeconds);
        if (action.Refused)
            _denials.WithLabels(workType, route, action.Code).Inc();
        if (action.Mcp is { } mcp)
        {
            _mcpProtocolActions.WithLabels(workType, route, BoundedVersion(mcp.ProtocolVersion)).Inc();
            // The tool label only carries names the policy allowed, so agents cannot mint label values.
            var tool = mcp.Target is not null && mcp.Method == "tools/call" && !action.Refused && action.Kind != ActionKind.External ? mcp.Target : "";
            _mcpActions.WithLabels(workType, route, BoundedMethod(mcp.Method), tool, decision).Inc();
        }
    }

    public void ServerMessage(string route, string method) => _serverMessages.WithLabels(route, BoundedMethod(method)).Inc();

    private static string BoundedMethod(string? method) => method switch
    {
        null => "",
        "initialize" or "ping" or "tools/list" or "tools/call" or "resources/list" or "resources/read" or "resources/templates/list"
            or "resources/subscribe" or "resources/unsubscribe" or "prompts/list" or "prompts/get" or "completion/complete"
            or "logging/setLevel" or "sampling/createMessage" or "elicitation/create" or "roots/list" => method,
        "notifications/initialized" or "notifications/cancelled" or "notifications/progress" or "notifications/message"
            or "notifications/roots/list_changed" or "notifications/resources/updated" or "notifications/resources/list_changed"
            or "notifications/tools/list_changed" or "notifications/prompts/list_changed" => method,
        _ => "other",
    };

    public void RateLimit(string workType, string result) => _rateLimits.WithLabels(workType, result).Inc();

    public void RateLimitStoreError() => _rateLimitStoreErrors.Inc();

    public void SecretInjected(string secret, string route) => _secretInjections.WithLabels(secret, route).Inc();

    public void AuditBatch(int records) => _auditBatch.Observe(records);

    public void AuditWriteError() => _auditErrors.Inc();

    public void AuditDurability(string mode) => _auditDurability.WithLabels(mode).Set(1);

    public void OutcomeUnknown() => _outcomeUnknown.Inc();

    public void PolicyReload(bool applied) => _policyReloads.WithLabels(applied ? "applied" : "rejected").Inc();

    public void TunnelConnections(string tunnel, int live) => _tunnelConnections.WithLabels(tunnel).Set(live);

    public void TunnelRequest(string tunnel, string result) => _tunnelRequests.WithLabels(tunnel, result).Inc();

    public void TunnelEvent(string tunnel, string eventName) => _tunnelEvents.WithLabels(tunnel, eventName).Inc();

    public void InboundRefused(string reason) => _inboundHandshakes.WithLabels(reason).Inc();

    public void EgressTunnels(int open) => _egressTunnels.Set(open);

    public void RejectedRequest(string reason) => _rejectedRequests.WithLabels(reason).Inc();

    private static readonly HashSet<string> KnownProtocolVersions = new(StringComparer.Ordinal) { "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28" };

    /// <summary>A label value from a bounded set: a client chooses the header, not the series count.</summary>
    private static string BoundedVersion(string? version) => version is null ? "none" : KnownProtocolVersions.Contains(version) ? version : "other";

    public void Readiness(bool ready, bool limitStoreUp)
    {
        _ready.Set(ready ? 1 : 0);
        _limitStoreUp.Set(limitStoreUp ? 1 : 0);
    }

    private static readonly string[] PrimedDecisions = ["allow", "deny"];
    private static readonly string[] PrimedGoverned = ["true", "false"];
    private static readonly string[] PrimedOutcomes = ["forwarded", "upstream_failed"];

    /// <summary>
    /// Creates at zero the series an SRE alerts on — for each work type and route its rules name:
    /// allowed and denied, governed and not; forwarded and upstream failures — and both reload results,
    /// so the first event of each is visible to <c>rate()</c> and <c>increase()</c> (a series that starts
    /// at 1 hides its first event from both).
    /// </summary>
    public void Prime(IEnumerable<(string WorkType, string Route, string Kind)> actions)
    {
        foreach (var (workType, route, kind) in actions)
        {
            foreach (var decision in PrimedDecisions)
            {
                foreach (var governed in PrimedGoverned)
                    _actions.WithLabels(workType, route, kind, decision, governed);
            }
            foreach (var outcome in PrimedOutcomes)
                _outcomes.WithLabels(workType, route, kind, outcome);
        }
        _policyReloads.WithLabels("applied");
        _policyReloads.WithLabels("rejected");
    }

    public void SessionIssued(string workType) => _sessions.WithLabels(workType).Inc();
}
