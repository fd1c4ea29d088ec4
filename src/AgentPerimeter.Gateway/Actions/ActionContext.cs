using System.Diagnostics;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>Which kind of action a request carries.</summary>
public enum ActionKind
{
    Http,
    Mcp,
    /// <summary>An action a harness ran outside the perimeter (a local tool) and reported: counted, never governed.</summary>
    External,
}

/// <summary>
/// The one per-request record every stage reads and writes (DESIGN.md: stages talk through this
/// feature, never through globals). It becomes the action's audit record and metrics increment.
/// </summary>
public sealed class ActionContext
{
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();

    public ActionContext(string actionId, DateTimeOffset startedAt)
    {
        ActionId = actionId;
        StartedAt = startedAt;
    }

    public string ActionId { get; }
    public DateTimeOffset StartedAt { get; }
    public ActionKind Kind { get; set; } = ActionKind.Http;

    // Who.
    public string? AgentId { get; set; }
    public string? SessionId { get; set; }
    public string? WorkType { get; set; }
    public string? Issuer { get; set; }

    // What.
    public string Method { get; set; } = "";
    public string Path { get; set; } = "";
    public string? RouteId { get; set; }

    /// <summary>The tunnel the action was forwarded through, when its destination is <c>tunnel://NAME</c>.</summary>
    public string? Tunnel { get; set; }

    /// <summary>On the inbound (mutual TLS) listener: the client certificate's subject and thumbprint.</summary>
    public string? InboundClient { get; set; }

    /// <summary>The caller's idempotency key (<c>Idempotency-Key</c> header or MCP <c>_meta</c>), when given.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>True when the answer is the recorded outcome of an earlier action with the same idempotency key.</summary>
    public bool Replayed { get; set; }

    /// <summary>The approval this action asked for, or presents (<c>X-Perimeter-Approval</c> or MCP <c>_meta</c>).</summary>
    public string? ApprovalId { get; set; }

    // Decision.
    public PolicyDecision Decision { get; set; } = PolicyDecision.Pending;

    // Outcome.
    /// <summary>Set just before the forwarder runs: the upstream may have received (and acted on) the request.</summary>
    public bool SentUpstream { get; set; }
    public int? UpstreamStatus { get; set; }
    public int Status { get; set; }
    public string? Exception { get; set; }

    /// <summary>The MCP message of the action, on MCP routes.</summary>
    public AgentPerimeter.Gateway.Mcp.McpActionInfo? Mcp { get; set; }

    /// <summary>Set when a rate limit (or its store) refused the action: when to retry.</summary>
    public TimeSpan? RetryAfter { get; set; }

    /// <summary>Secret values chosen by the secrets stage, injected by the request transform.</summary>
    internal IReadOnlyList<AgentPerimeter.Gateway.Secrets.PendingInjection>? Injections { get; set; }

    /// <summary>Names of the secrets injected into the forwarded request (for the audit record).</summary>
    public List<string> SecretsInjected { get; } = [];

    /// <summary>True when no credential supplied by the agent reached the upstream.</summary>
    public bool SecretsGoverned { get; set; } = true;

    /// <summary>Set once the audit record has been written (or has failed to be).</summary>
    internal int Recorded;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp);
}

/// <summary>HTTP feature carrying the <see cref="ActionContext"/>.</summary>
public interface IActionFeature
{
    ActionContext Action { get; }
}

internal sealed class ActionFeature(ActionContext action) : IActionFeature
{
    public ActionContext Action { get; } = action;
}

public static class ActionHttpContextExtensions
{
    public static ActionContext GetAction(this HttpContext context) =>
        context.Features.Get<IActionFeature>()?.Action
        ?? throw new InvalidOperationException("The perimeter action middleware has not run for this request.");
}
