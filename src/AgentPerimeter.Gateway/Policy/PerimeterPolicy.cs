using AgentPerimeter.Protocol.Refusals;
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

    /// <summary>Allowed actions of this rule wait for a human's approval (<c>"Approval": "required"</c>).</summary>
    public bool RequireApproval { get; init; }

    /// <summary>MCP tools this rule allows (globs on the tool name); empty: none.</summary>
    public Glob[] Tools { get; init; } = [];

    /// <summary>MCP resources this rule allows (globs on the URI); empty: none.</summary>
    public Glob[] Resources { get; init; } = [];

    /// <summary>MCP prompts this rule allows (globs on the name); empty: none.</summary>
    public Glob[] Prompts { get; init; } = [];

    /// <summary>Constraints on the arguments of the tools this rule allows, by argument name.</summary>
    public IReadOnlyDictionary<string, ArgumentConstraint> Arguments { get; init; } = new Dictionary<string, ArgumentConstraint>();

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

/// <summary>A constraint on one tool argument: a list of allowed values and/or a glob the value must match.</summary>
public sealed class ArgumentConstraint
{
    public string[]? OneOf { get; init; }
    public Glob? Glob { get; init; }
    public int? MaxLength { get; init; }

    /// <summary>Null when <paramref name="value"/> satisfies the constraint, else why not.</summary>
    public string? Check(string name, System.Text.Json.JsonElement? value)
    {
        if (value is not { } v || v.ValueKind == System.Text.Json.JsonValueKind.Undefined)
            return $"argument '{name}' is required by policy";
        var text = v.ValueKind switch
        {
            System.Text.Json.JsonValueKind.String => v.GetString()!,
            System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => v.GetRawText(),
            _ => null,
        };
        if (text is null)
            return $"argument '{name}' must be a plain value";
        if (OneOf is not null && !OneOf.Contains(text, StringComparer.Ordinal))
            return $"argument '{name}' must be one of: {string.Join(", ", OneOf)}";
        if (Glob is not null && !PathGuardMiddleware.IsCanonicalValue(text))
            return $"argument '{name}' must be a plain path (no '..', '.', '//', '\\' or percent-encoding)";
        if (Glob is not null && !Glob.IsMatch(text))
            return $"argument '{name}' must match '{Glob.Pattern}'";
        if (MaxLength is { } max && text.Length > max)
            return $"argument '{name}' must be at most {max} characters";
        return null;
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
