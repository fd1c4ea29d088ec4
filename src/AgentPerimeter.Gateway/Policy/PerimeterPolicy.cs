using System.Collections.Frozen;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>Whether a rule blocks (enforce) or only reports what it would block (report).</summary>
public enum RuleMode
{
    Enforce,
    Report,
}

/// <summary>One compiled allowlist rule of a work type.</summary>
public sealed class PolicyRule
{
    public required string Id { get; init; }
    public required string Route { get; init; }
    public required FrozenSet<string> Methods { get; init; }
    public bool AnyMethod { get; init; }
    public required Glob[] Paths { get; init; }
    public RuleMode Mode { get; init; }

    public bool Matches(string method, string path)
    {
        if (!AnyMethod && !Methods.Contains(method))
            return false;
        foreach (var glob in Paths)
        {
            if (glob.IsMatch(path))
                return true;
        }
        return false;
    }
}

/// <summary>A work type: who may start sessions for it, and its allowlist.</summary>
public sealed class WorkTypePolicy
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required Glob[] Agents { get; init; }
    /// <summary>Rules by route id; enforcing rules come before report-only ones. Key "*" holds catch-all rules.</summary>
    public required FrozenDictionary<string, PolicyRule[]> RulesByRoute { get; init; }
    public required IReadOnlyList<PolicyRule> Rules { get; init; }

    public bool AgentMayUse(string agentId)
    {
        foreach (var glob in Agents)
        {
            if (glob.IsMatch(agentId))
                return true;
        }
        return false;
    }
}

/// <summary>The compiled, immutable perimeter policy. A reload swaps the whole object.</summary>
public sealed class PerimeterPolicy
{
    public required FrozenDictionary<string, WorkTypePolicy> WorkTypes { get; init; }

    /// <summary>Hex SHA-256 of the policy's source text: which version decided an action.</summary>
    public required string Version { get; init; }

    /// <summary>Decides one HTTP action. Deny by default; enforcing rules win over report-only rules.</summary>
    public PolicyDecision Decide(string workType, string routeId, string method, string path)
    {
        if (!WorkTypes.TryGetValue(workType, out var wt))
            return new PolicyDecision(DecisionOutcome.Deny, "unknown_work_type", null, $"Work type '{workType}' is not configured on this perimeter.");

        PolicyRule? report = null;
        if (Find(wt, routeId, method, path, ref report) is { } rule)
            return new PolicyDecision(DecisionOutcome.Allow, "allowed", rule.Id, null);
        if (report is not null)
            return new PolicyDecision(DecisionOutcome.WouldDeny, "would_deny", report.Id,
                $"Allowed by report-only rule '{report.Id}'; enforcing policy would deny it.");

        return new PolicyDecision(DecisionOutcome.Deny, "policy_denied", null,
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
