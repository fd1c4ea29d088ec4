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
