using System.Collections.Frozen;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The egress rules of every work type: the policy snapshot's egress section. Deny by default: a work
/// type without rules, or with an empty list, reaches nothing.
/// </summary>
internal sealed class EgressCatalog : IPolicySection<EgressCatalog>
{
    public static EgressCatalog Empty { get; } = new() { ByWorkType = FrozenDictionary<string, EgressRule[]>.Empty };

    public required FrozenDictionary<string, EgressRule[]> ByWorkType { get; init; }

    /// <summary>Most tunnels and requests one session of the work type may hold open at once (<c>Egress:MaxOpenPerSession</c>); absent: no cap.</summary>
    public FrozenDictionary<string, int> MaxOpenPerSession { get; init; } = FrozenDictionary<string, int>.Empty;

    /// <summary>
    /// Decides one egress action: a CONNECT (method null) or a plain HTTP request. Enforcing rules win
    /// over report-only ones; the matching rule is returned with the decision.
    /// </summary>
    public (PolicyDecision Decision, EgressRule? Rule) Decide(string workType, string host, int port, string? method, string? path)
    {
        if (!ByWorkType.TryGetValue(workType, out var rules) || rules.Length == 0)
            return (new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.EgressDenied, null, $"Work type '{workType}' has no egress rule, so its sandboxes reach nothing (asked for {host}:{port})."), null);
        EgressRule? report = null;
        foreach (var rule in rules)
        {
            if (!rule.MatchesHost(host) || !rule.Ports.Contains(port))
                continue;
            if (method is not null && !rule.MatchesRequest(method, path ?? "/"))
                continue;
            if (rule.Mode == RuleMode.Enforce)
                return (new PolicyDecision(DecisionOutcome.Allow, "allowed", rule.Id, null), rule);
            report ??= rule;
        }
        if (report is not null)
            return (new PolicyDecision(DecisionOutcome.WouldDeny, "would_deny", report.Id,
                $"Allowed by report-only egress rule '{report.Id}'; enforcing policy would deny it."), report);
        return (Deny(workType, host, port, method is null ? "allows no tunnel to" : $"allows no {method} {path} on"), null);
    }

    private static PolicyDecision Deny(string workType, string host, int port, string what) =>
        new(DecisionOutcome.Deny, RefusalCodes.EgressDenied, null, $"Work type '{workType}' {what} {host}:{port}.");
}
