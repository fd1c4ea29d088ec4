using AgentPerimeter.Protocol.Refusals;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>MCP decisions: which JSON-RPC methods, tools, resources and prompts a work type may use on a route.</summary>
public static class McpPolicy
{
    /// <summary>Methods that manage the session or list capabilities; lists are filtered on the way back.</summary>
    private static readonly HashSet<string> SessionMethods = new(StringComparer.Ordinal)
    {
        "initialize", "ping", "tools/list", "resources/list", "resources/templates/list", "prompts/list",
        "completion/complete", "logging/setLevel",
        // MCP 2026-07-28: the version and capability probe that replaces initialize, and the notification
        // stream that replaces the GET stream (the resources it watches are decided one by one by the inspector).
        "server/discover", "subscriptions/listen",
    };

    public static PolicyDecision Decide(this PerimeterPolicy policy, string workType, string routeId, string? method, string? target, JsonElement? arguments)
    {
        if (!policy.WorkTypes.TryGetValue(workType, out var wt))
            return new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.UnknownWorkType, null, $"Work type '{workType}' is not configured on this perimeter.");
        var rules = RulesFor(wt, routeId);

        // Session upkeep, notifications and the client's answers to server requests need only access to the route.
        if (method is null || SessionMethods.Contains(method) || method.StartsWith("notifications/", StringComparison.Ordinal))
        {
            var any = rules.FirstOrDefault(r => r.Mode == RuleMode.Enforce) ?? rules.FirstOrDefault();
            return any is null ? Denied(workType, routeId, RefusalCodes.PolicyDenied, null, $"Work type '{workType}' may not use MCP route '{routeId}'.")
                : Decided(any, null);
        }

        Func<PolicyRule, bool> covers;
        string what;
        switch (method)
        {
            case "tools/call":
                covers = r => AnyMatch(r.Tools, target);
                what = $"tool '{target}'";
                break;
            case "resources/read" or "resources/subscribe" or "resources/unsubscribe":
                if (target is not null && !PathGuardMiddleware.IsCanonicalValue(target))
                    return Denied(workType, routeId, RefusalCodes.ResourceNotCanonical, null, $"The resource URI '{target}' is not in plain form (no '..', '.', '//' or percent-encoding).");
                covers = r => AnyMatch(r.Resources, target);
                what = $"resource '{target}'";
                break;
            case "prompts/get":
                covers = r => AnyMatch(r.Prompts, target);
                what = $"prompt '{target}'";
                break;
            default:
                return Denied(workType, routeId, RefusalCodes.MethodNotAllowed, null, $"The MCP method '{method}' is not allowed through this perimeter.");
        }

        PolicyDecision? argumentFailure = null;
        PolicyRule? report = null;
        foreach (var rule in rules)
        {
            if (!covers(rule))
                continue;
            if (method == "tools/call" && CheckArguments(rule, arguments) is { } problem)
            {
                argumentFailure ??= Denied(workType, routeId, RefusalCodes.ArgumentNotAllowed, rule.Id,
                    $"Work type '{workType}' may call {what} only with allowed arguments: {problem}.");
                continue;
            }
            if (rule.Mode == RuleMode.Enforce)
                return Decided(rule, null);
            report ??= rule;
        }
        if (report is not null)
            return Decided(report, null);
        return argumentFailure ?? Denied(workType, routeId, RefusalCodes.PolicyDenied, null, $"Work type '{workType}' may not use {what} on route '{routeId}'.");
    }

    /// <summary>Whether a listed tool is shown to the work type (any rule, enforcing or report-only, covers it).</summary>
    public static bool MayList(this PerimeterPolicy policy, string workType, string routeId, string kind, string name)
    {
        if (!policy.WorkTypes.TryGetValue(workType, out var wt))
            return false;
        foreach (var rule in RulesFor(wt, routeId))
        {
            var globs = kind switch { "tools" => rule.Tools, "resources" => rule.Resources, _ => rule.Prompts };
            if (AnyMatch(globs, name))
                return true;
        }
        return false;
    }

    private static IEnumerable<PolicyRule> RulesFor(WorkTypePolicy wt, string routeId)
    {
        IEnumerable<PolicyRule> rules = wt.RulesByRoute.TryGetValue(routeId, out var own) ? own : [];
        if (wt.RulesByRoute.TryGetValue("*", out var all))
            rules = rules.Concat(all);
        // Enforcing rules first, so report-only ones never shadow them.
        return rules.OrderBy(r => r.Mode == RuleMode.Enforce ? 0 : 1);
    }

    private static string? CheckArguments(PolicyRule rule, JsonElement? arguments)
    {
        foreach (var (name, constraint) in rule.Arguments)
        {
            JsonElement? value = arguments is { ValueKind: JsonValueKind.Object } args && args.TryGetProperty(name, out var v) ? v : null;
            if (constraint.Check(name, value) is { } problem)
                return problem;
        }
        return null;
    }

    private static bool AnyMatch(Glob[] globs, string? value)
    {
        if (value is null)
            return false;
        foreach (var g in globs)
        {
            if (g.IsMatch(value))
                return true;
        }
        return false;
    }

    private static PolicyDecision Decided(PolicyRule rule, string? reason) => rule.Mode == RuleMode.Enforce
        ? new PolicyDecision(DecisionOutcome.Allow, "allowed", rule.Id, reason)
        : new PolicyDecision(DecisionOutcome.WouldDeny, "would_deny", rule.Id, $"Allowed by report-only rule '{rule.Id}'; enforcing policy would deny it.");

    private static PolicyDecision Denied(string workType, string routeId, string code, string? rule, string reason) =>
        new(DecisionOutcome.Deny, code, rule, reason);
}
