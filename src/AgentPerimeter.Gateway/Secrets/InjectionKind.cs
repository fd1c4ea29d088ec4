using System.Collections.Frozen;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>How a binding puts a secret on the forwarded request.</summary>
public enum InjectionKind
{
    Bearer,
    Header,
    Basic,
    Query,
}
