using AgentPerimeter.Protocol.Refusals;
using System.Collections.Frozen;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

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
