using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentPerimeter.Benchmarks;

/// <summary>One sample of a counter, with its labels.</summary>
internal sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var v) ? v : "";
}

/// <summary>
/// The gateway's own view of the run, from its admin <c>/metrics</c>: a check that the load was governed and audited.
/// <see cref="AuditDurability"/>: the modes the info metric <c>agentperimeter_audit_durability</c> sets to 1 (one, normally);
/// <see cref="EgressOpen"/>: the gauge <c>agentperimeter_egress_open</c> (tunnels and requests open through the egress listener).
/// </summary>
internal sealed partial record GatewayMetrics(
    double Actions, double GovernedActions, IReadOnlyDictionary<string, double> ActionsByDecision,
    double AuditBatches, double AuditRecords, double AuditWriteErrors,
    IReadOnlyList<MetricSample> ActionSamples, IReadOnlyList<MetricSample> McpActionSamples,
    IReadOnlyDictionary<string, double> RateLimitDecisions, double RateLimitStoreErrors,
    IReadOnlyList<MetricSample> TunnelRequestSamples, IReadOnlyList<string> AuditDurability,
    IReadOnlyList<MetricSample> OutcomeSamples, double EgressOpen)
{
    /// <summary><c>agentperimeter_ratelimit_decisions_total</c> with <c>result="allowed"</c>, all work types.</summary>
    public double RateLimitAllowed => RateLimitDecisions.GetValueOrDefault("allowed");

    /// <summary>Rate-limit decisions of any result: each is one call of the limit store.</summary>
    public double RateLimitDecisionCount => RateLimitDecisions.Values.Sum();

    /// <summary>Rate-limit decisions other than allowed (limited, unavailable, degraded), by result.</summary>
    public IEnumerable<KeyValuePair<string, double>> RateLimitNotAllowed => RateLimitDecisions.Where(kv => kv.Key != "allowed" && kv.Value > 0);

    /// <summary>Audit records per batch (one write, and in Fsync mode one fsync: group commit).</summary>
    public double MeanRecordsPerBatch => AuditBatches > 0 ? AuditRecords / AuditBatches : 0;

    /// <summary>Audit records per action counted (intent and outcome: 2 for allowed actions, plus the few records that are no action's).</summary>
    public double AuditRecordsPerAction => Actions > 0 ? AuditRecords / Actions : double.NaN;

    /// <summary>Whether the gateway's <c>agentperimeter_audit_durability</c> names exactly <paramref name="mode"/> (Fsync, Write).</summary>
    public bool AuditDurabilityIs(string mode) => AuditDurability is [var only] && only == DurabilityBench.MetricLabel(mode);

    /// <summary>The modes <c>agentperimeter_audit_durability</c> reports, for messages: "write", or "not reported".</summary>
    public string AuditDurabilityText => AuditDurability.Count == 0 ? "not reported" : string.Join(", ", AuditDurability);

    /// <summary><c>agentperimeter_actions_total</c> of one route, by <c>kind/decision</c>.</summary>
    public IReadOnlyDictionary<string, double> RouteActions(string route) => ActionSamples
        .Where(s => s.Label("route") == route)
        .GroupBy(s => $"{s.Label("kind")}/{s.Label("decision")}", StringComparer.Ordinal)
        .Where(g => g.Sum(s => s.Value) > 0) // series primed at zero are not actions
        .ToDictionary(g => g.Key, g => g.Sum(s => s.Value), StringComparer.Ordinal);

    /// <summary><c>agentperimeter_action_outcomes_total</c> of one route, by <c>kind/outcome</c>.</summary>
    public IReadOnlyDictionary<string, double> RouteOutcomes(string route) => OutcomeSamples
        .Where(s => s.Label("route") == route)
        .GroupBy(s => $"{s.Label("kind")}/{s.Label("outcome")}", StringComparer.Ordinal)
        .Where(g => g.Sum(s => s.Value) > 0)
        .ToDictionary(g => g.Key, g => g.Sum(s => s.Value), StringComparer.Ordinal);

    /// <summary><c>agentperimeter_mcp_actions_total</c> of one route, by <c>mcp_method/tool/decision</c>.</summary>
    public IReadOnlyDictionary<string, double> RouteMcpActions(string route) => McpActionSamples
        .Where(s => s.Label("route") == route)
        .GroupBy(s => $"{s.Label("mcp_method")}/{s.Label("tool")}/{s.Label("decision")}", StringComparer.Ordinal)
        .Where(g => g.Sum(s => s.Value) > 0)
        .ToDictionary(g => g.Key, g => g.Sum(s => s.Value), StringComparer.Ordinal);

    /// <summary><c>agentperimeter_tunnel_requests_total</c> of one tunnel, by <c>result</c> (forwarded, unavailable, failed).</summary>
    public IReadOnlyDictionary<string, double> TunnelRequests(string tunnel) => TunnelRequestSamples
        .Where(s => s.Label("tunnel") == tunnel)
        .GroupBy(s => s.Label("result"), StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Sum(s => s.Value), StringComparer.Ordinal);

    /// <summary>"key count, key count", or "none".</summary>
    public static string Format(IReadOnlyDictionary<string, double> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value:N0}"));

    public static async Task<GatewayMetrics> ScrapeAsync(HttpClient http, Uri admin, CancellationToken ct)
    {
        var text = await http.GetStringAsync(new Uri(admin, "metrics"), ct).ConfigureAwait(false);
        return Parse(text);
    }

    public static GatewayMetrics Parse(string text)
    {
        double actions = 0, governed = 0, batches = 0, records = 0, errors = 0;
        var byDecision = new SortedDictionary<string, double>(StringComparer.Ordinal);
        var actionSamples = new List<MetricSample>();
        var mcpSamples = new List<MetricSample>();
        var tunnelSamples = new List<MetricSample>();
        var outcomeSamples = new List<MetricSample>();
        double egressOpen = 0;
        var rateLimits = new SortedDictionary<string, double>(StringComparer.Ordinal);
        double storeErrors = 0;
        var durability = new List<string>();
        foreach (Match m in Sample().Matches(text))
        {
            var name = m.Groups["name"].Value;
            var labels = m.Groups["labels"].Value;
            var value = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            switch (name)
            {
                case "agentperimeter_actions_total":
                    actions += value;
                    if (labels.Contains("governed=\"true\"", StringComparison.Ordinal))
                        governed += value;
                    var decision = Decision().Match(labels) is { Success: true } d ? d.Groups[1].Value : "?";
                    byDecision[decision] = byDecision.GetValueOrDefault(decision) + value;
                    actionSamples.Add(new MetricSample(name, Labels(labels), value));
                    break;
                case "agentperimeter_mcp_actions_total":
                    mcpSamples.Add(new MetricSample(name, Labels(labels), value));
                    break;
                case "agentperimeter_audit_batch_records_count":
                    batches += value;
                    break;
                case "agentperimeter_audit_batch_records_sum":
                    records += value;
                    break;
                case "agentperimeter_audit_write_errors_total":
                    errors += value;
                    break;
                case "agentperimeter_ratelimit_decisions_total":
                    var result = Labels(labels).GetValueOrDefault("result", "?");
                    rateLimits[result] = rateLimits.GetValueOrDefault(result) + value;
                    break;
                case "agentperimeter_ratelimit_store_errors_total":
                    storeErrors += value;
                    break;
                case "agentperimeter_tunnel_requests_total":
                    tunnelSamples.Add(new MetricSample(name, Labels(labels), value));
                    break;
                case "agentperimeter_action_outcomes_total":
                    outcomeSamples.Add(new MetricSample(name, Labels(labels), value));
                    break;
                case "agentperimeter_egress_open":
                    egressOpen = value;
                    break;
                case "agentperimeter_audit_durability" when value == 1:
                    durability.Add(Labels(labels).GetValueOrDefault("mode", "?"));
                    break;
            }
        }
        return new GatewayMetrics(actions, governed, byDecision, batches, records, errors, actionSamples, mcpSamples, rateLimits, storeErrors, tunnelSamples, durability,
            outcomeSamples, egressOpen);
    }

    private static Dictionary<string, string> Labels(string labels) =>
        Label().Matches(labels).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value, StringComparer.Ordinal);

    [GeneratedRegex(@"^(?<name>[a-z_]+)(?:\{(?<labels>[^}]*)\})?\s+(?<value>[-+0-9.eE]+|NaN)\s*$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    [GeneratedRegex(@"decision=""([^""]*)""")]
    private static partial Regex Decision();

    [GeneratedRegex(@"([a-z_]+)=""([^""]*)""")]
    private static partial Regex Label();
}
