using AgentPerimeter.Protocol.Refusals;
using System.Collections.Frozen;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>The compiled, immutable perimeter policy. A reload swaps the whole object.</summary>
public sealed class PerimeterPolicy
{
    public required FrozenDictionary<string, WorkTypePolicy> WorkTypes { get; init; }

    /// <summary>The sections other features compiled from the same files (secrets, rate limits), by type.</summary>
    public FrozenDictionary<Type, object> Sections { get; init; } = FrozenDictionary<Type, object>.Empty;

    /// <summary>The compiled section of type <typeparamref name="T"/>, or its empty value when no loader produced one.</summary>
    public T Section<T>() where T : class, IPolicySection<T> =>
        Sections.TryGetValue(typeof(T), out var section) ? (T)section : T.Empty;

    /// <summary>Ids of the rules whose allowed actions wait for a human (<c>"Approval": "required"</c>); ids are unique across the policy.</summary>
    public FrozenSet<string> ApprovalRules { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Hex SHA-256 of the policy's source text: which version decided an action.</summary>
    public required string Version { get; init; }

    /// <summary>Decides one HTTP action. Deny by default; enforcing rules win over report-only rules.</summary>
    public PolicyDecision Decide(string workType, string routeId, string method, string path)
    {
        if (!WorkTypes.TryGetValue(workType, out var wt))
            return new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.UnknownWorkType, null, $"Work type '{workType}' is not configured on this perimeter.");

        PolicyRule? report = null;
        if (Find(wt, routeId, method, path, ref report) is { } rule)
            return new PolicyDecision(DecisionOutcome.Allow, "allowed", rule.Id, null);
        if (report is not null)
            return new PolicyDecision(DecisionOutcome.WouldDeny, "would_deny", report.Id,
                $"Allowed by report-only rule '{report.Id}'; enforcing policy would deny it.");

        return new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.PolicyDenied, null,
            $"Work type '{workType}' has no rule allowing {method} {path} on route '{routeId}'.");
    }

    private static PolicyRule? Find(WorkTypePolicy wt, string routeId, string method, string path, ref PolicyRule? report)
    {
        PolicyRule? hit = Scan(wt, routeId, method, path, ref report);
        return hit ?? Scan(wt, "*", method, path, ref report);
    }

    private static PolicyRule? Scan(WorkTypePolicy wt, string key, string method, string path, ref PolicyRule? report)
    {
        if (!wt.RulesByRoute.TryGetValue(key, out var rules))
            return null;
        foreach (var rule in rules)
        {
            if (!rule.Matches(method, path))
                continue;
            if (rule.Mode == RuleMode.Enforce)
                return rule;
            report ??= rule;
        }
        return null;
    }
}
