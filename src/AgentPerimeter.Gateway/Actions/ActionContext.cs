using System.Diagnostics;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// The one per-request record every stage reads and writes: stages talk through this feature, never
/// through globals (docs/architecture.md). It is decided once (<see cref="Decide"/>), may then get an
/// <see cref="Outcome"/>, and becomes the action's audit record and metrics increment.
/// </summary>
public sealed class ActionContext
{
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private PolicyDecision _decision = PolicyDecision.Pending;
    private int _recorded;

    public ActionContext(string actionId, DateTimeOffset startedAt)
    {
        ActionId = actionId;
        StartedAt = startedAt;
    }

    /// <summary>A new action id: time-ordered, unguessable.</summary>
    public static string NewId() => "act_" + Guid.CreateVersion7().ToString("N");

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

    /// <summary>The bounded label of the action's kind (records and metrics).</summary>
    public string KindLabel => Kind switch { ActionKind.Mcp => "mcp", ActionKind.External => "external", ActionKind.Egress => "egress", _ => "http" };

    /// <summary>The version of the policy snapshot the action was opened with (one snapshot decides it).</summary>
    public string? PolicyVersion { get; set; }

    /// <summary>The tunnel the action was forwarded through, when its destination is <c>tunnel://NAME</c>.</summary>
    public string? Tunnel { get; set; }

    /// <summary>On the inbound (mutual TLS) listener: the client certificate's subject and thumbprint.</summary>
    public string? InboundClient { get; set; }

    // Caller intent, read once from the request (header or MCP _meta) by the stage that parses it.
    /// <summary>The caller's idempotency key (<c>Idempotency-Key</c> header or MCP <c>_meta</c>), when given.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>The approval this action asked for, or presents (<c>X-Perimeter-Approval</c> or MCP <c>_meta</c>).</summary>
    public string? ApprovalId { get; set; }

    /// <summary>When the call is held and the client can open a URL for its human: the approval page to show.</summary>
    public ApprovalPrompt? ApprovalPrompt { get; set; }

    /// <summary>The request body, when a stage had to buffer it (MCP message, fingerprint): what was checked is what is forwarded.</summary>
    public ReadOnlyMemory<byte>? BufferedBody { get; set; }

    /// <summary>The egress target of the action, on the egress listener.</summary>
    public EgressActionInfo? Egress { get; set; }

    /// <summary>The MCP message of the action, on MCP routes.</summary>
    public McpActionInfo? Mcp { get; set; }

    /// <summary>
    /// What the deciding stages allow so far, before the last of them (MCP message, approval gate) has
    /// spoken. Not a decision: <see cref="Decision"/> is fixed once, by <see cref="Decide"/>.
    /// </summary>
    public PolicyDecision? Proposal { get; set; }

    /// <summary>
    /// A refusal by route policy that waits for the protocol stage to read the request's id, so an MCP
    /// client gets it as a JSON-RPC error it can read. Never forwarded: the decision seal refuses it if
    /// no stage has.
    /// </summary>
    public PolicyDecision? DeferredRefusal { get; set; }

    /// <summary>The decision: fixed once, never rewritten.</summary>
    public PolicyDecision Decision => _decision;

    public bool IsDecided => _decision.Outcome != DecisionOutcome.Pending;

    /// <summary>Fixes the decision. Deciding an action twice is a bug in a stage, and throws.</summary>
    public void Decide(PolicyDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Outcome == DecisionOutcome.Pending)
            throw new ArgumentException("A decision cannot be 'pending'.", nameof(decision));
        if (IsDecided)
            throw new InvalidOperationException($"Action {ActionId} is already decided ({_decision.Label}/{_decision.Code}); it cannot be decided again as {decision.Label}/{decision.Code}.");
        _decision = decision;
    }

    /// <summary>What happened after the decision (set by the stage that observed it), or null for the plain course.</summary>
    public ActionOutcome? Outcome { get; private set; }

    /// <summary>Sets the outcome. The first thing that happened after the decision is the outcome; a later one is ignored.</summary>
    public bool SetOutcome(ActionOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (Outcome is not null)
            return false;
        Outcome = outcome;
        return true;
    }

    /// <summary>
    /// Set at the forwarder boundary, just before YARP sends the request: from here on the upstream may
    /// have received (and acted on) it. Every other stage reads this one fact.
    /// </summary>
    public bool ReachedUpstream => _forwarding && Outcome?.NothingSent != true;

    private bool _forwarding;

    /// <summary>Called by the last step before the forwarder, once per action.</summary>
    public void MarkForwarding() => _forwarding = true;

    /// <summary>
    /// Ends deciding for an action answered without reaching the end of the deciding stages (a replay, a
    /// failure): the proposal becomes the decision, then the outcome is set.
    /// </summary>
    public void Conclude(ActionOutcome outcome)
    {
        if (!IsDecided)
            Decide(Proposal ?? new PolicyDecision(DecisionOutcome.Unavailable, outcome.Code, outcome.RuleId, outcome.Reason));
        SetOutcome(outcome);
    }

    public int? UpstreamStatus { get; set; }
    public int Status { get; set; }
    public string? Exception { get; set; }

    /// <summary>The idempotency key's scoped storage key and the action's fingerprint, when a key is in use (the intent record carries them).</summary>
    public string? IdempotencyScope { get; set; }

    public string? IdempotencyFingerprint { get; set; }

    /// <summary>W3C trace context the caller sent (<c>traceparent</c>), carried into the records.</summary>
    public string? TraceParent { get; set; }

    /// <summary>A W3C <c>traceparent</c> value when it has the standard shape (version-trace id-span id-flags), else null.</summary>
    public static string? ValidTraceParent(string? value) =>
        value is { Length: 55 } v && System.Text.RegularExpressions.Regex.IsMatch(v, "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$") ? v : null;

    /// <summary>Bytes of the request body as forwarded (when known) and of the answer (when known by the record).</summary>
    public long? RequestBytes { get; set; }

    public long? ResponseBytes { get; set; }

    /// <summary>True once the intent record is durable: the action may reach the upstream, and its final record is its outcome.</summary>
    public bool IntentRecorded { get; set; }

    /// <summary>Names of the secrets the secrets stage chose for injection (in the intent record, before forwarding).</summary>
    public List<string> SecretsPlanned { get; } = [];

    /// <summary>Names of the secrets injected into the forwarded request (for the audit record).</summary>
    public List<string> SecretsInjected { get; } = [];

    /// <summary>True when no credential supplied by the agent reached the upstream.</summary>
    public bool SecretsGoverned { get; set; } = true;

    /// <summary>How refusals of this action are written: JSON by default, JSON-RPC once the MCP stage has read a request.</summary>
    public IRefusalWriter RefusalWriter { get; set; } = JsonRefusalWriter.Instance;

    /// <summary>Claims the action's one record; true for the first caller only.</summary>
    public bool TryClaimRecord() => Interlocked.Exchange(ref _recorded, 1) == 0;

    public bool IsRecorded => Volatile.Read(ref _recorded) != 0;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp);

    /// <summary>True when the answer was replayed from an earlier execution with the same idempotency key.</summary>
    public bool Replayed => Outcome is { Code: "idempotent_replay" };

    /// <summary>The decision label reported in records and metrics (a limit stage's disposition keeps its established name).</summary>
    public string DecisionLabel => Outcome?.DecisionLabel ?? _decision.Label;

    /// <summary>The code the agent was answered with: the outcome's when there is one, else the decision's.</summary>
    public string Code => Outcome?.Code ?? _decision.Code;

    /// <summary>The rule or limit that determined the answer.</summary>
    public string? RuleId => Outcome?.RuleId ?? _decision.RuleId;

    public string? Reason => Outcome?.Reason ?? _decision.Reason;

    /// <summary>True when the perimeter refused the action (by decision, or by a limit or an unavailable check after it).</summary>
    public bool Refused => !_decision.Permits || Outcome?.Refuses == true;

    /// <summary>Bounded outcome label: forwarded, refused, answered, client_gone, or the outcome's class.</summary>
    public string OutcomeLabel => Outcome is { } o ? ActionOutcome.ClassLabel(o.Class)
        : Status == 499 ? "client_gone"
        : !_decision.Permits ? "refused"
        : ReachedUpstream ? "forwarded"
        : "answered";

    /// <summary>The governed flags of this action (DESIGN: policy, audit, secrets).</summary>
    public GovernedFlags Governed(bool audited) =>
        new(_decision.IsEnforced && (Outcome?.KeepsPolicyGoverned ?? true), audited, SecretsGoverned);
}
