using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;

namespace AgentPerimeter.Gateway.Hosting;

public sealed class LoggingOptions
{
    /// <summary>Compact JSON logs on standard output.</summary>
    public bool Console { get; set; } = true;

    /// <summary>Also write compact JSON logs to this file (relative to the data directory).</summary>
    public string? File { get; set; }

    /// <summary>Minimum level: Verbose, Debug, Information, Warning, Error, Fatal.</summary>
    public string MinimumLevel { get; set; } = "Information";

    /// <summary>
    /// One line per action at Information: action id, agent, work type, route, target, decision, outcome,
    /// status and duration. Off by default (the audit log has every action); refusals are logged either way.
    /// </summary>
    public bool AccessLog { get; set; }
}
