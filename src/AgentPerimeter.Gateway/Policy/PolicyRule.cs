using AgentPerimeter.Protocol.Refusals;
using System.Collections.Frozen;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

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

    /// <summary>
    /// MCP 2026-07-28: the <c>Mcp-Param-{Name}</c> headers (a tool's <c>x-mcp-header</c> arguments mirrored for
    /// intermediaries) a call under this rule may carry; any other is refused. Names compare case-insensitively.
    /// </summary>
    public FrozenSet<string> ParamHeaders { get; init; } = FrozenSet<string>.Empty;

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
