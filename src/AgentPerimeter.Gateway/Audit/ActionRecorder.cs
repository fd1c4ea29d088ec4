using System.Collections.Concurrent;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// Writes every record the gateway keeps — actions (intent and outcome), server messages, tunnel events,
/// operator actions — into the one audit chain, and counts each action once in the metrics. Every free
/// text goes through the scrubber. Keeps the actions in flight (intent recorded, outcome not yet).
/// </summary>
public sealed class ActionRecorder(AuditLog log, PerimeterMetrics metrics, SecretScrubber scrubber, TimeProvider time) : IActionRecorder
{
    private readonly ConcurrentDictionary<string, InFlightAction> _inFlight = new(StringComparer.Ordinal);

    public bool CanRecord() => log.EnsureWritable();

    /// <summary>Actions whose intent is recorded and outcome is not, oldest first.</summary>
    public IReadOnlyList<InFlightAction> InFlight() => [.. _inFlight.Values.OrderBy(a => a.Started)];

    public async Task<bool> RecordIntentAsync(ActionContext action)
    {
        var target = action.Mcp is { Target: { } t } mcp ? $"{mcp.Method} {t}" : action.Path;
        _inFlight[action.ActionId] = new InFlightAction(action.ActionId, action.AgentId, action.WorkType, action.RouteId, action.Method,
            ActionResponses.Printable(target, 256), action.StartedAt);
        bool durable = await log.AppendAsync(AuditRecord.SerializeIntent(action, scrubber)).ConfigureAwait(false);
        if (durable)
            action.IntentRecorded = true;
        else
            _inFlight.TryRemove(action.ActionId, out _);
        return durable;
    }

    public async Task<bool> RecordAsync(ActionContext action)
    {
        var fields = AuditRecord.SerializeFields(action, scrubber);
        bool durable = await log.AppendAsync(fields).ConfigureAwait(false);
        _inFlight.TryRemove(action.ActionId, out _);
        metrics.Action(action, action.Governed(durable).All);
        return durable;
    }

    public void CountUnrecorded(ActionContext action) => metrics.Action(action, governed: false);

    public void RecordServerMessage(ActionContext parent, string method, bool isRequest)
    {
        var record = new ActionContext(ActionContext.NewId(), time.GetUtcNow())
        {
            Kind = ActionKind.Mcp,
            AgentId = parent.AgentId,
            SessionId = parent.SessionId,
            WorkType = parent.WorkType,
            RouteId = parent.RouteId,
            Method = parent.Method,
            Path = parent.Path,
            Status = parent.Status,
            PolicyVersion = parent.PolicyVersion,
            Mcp = new McpActionInfo
            {
                Method = method, Direction = "server", SessionId = parent.Mcp?.SessionId,
                MessageKind = isRequest ? McpMessageKind.Request : McpMessageKind.Notification,
            },
        };
        record.Decide(new PolicyDecision(DecisionOutcome.Allow, isRequest ? "server_request" : "server_notification", null, null));
        // Observed, not decided: the stream is not held back for the record's fsync.
        _ = log.AppendAsync(AuditRecord.SerializeFields(record, scrubber));
        metrics.ServerMessage(parent.RouteId ?? "none", method);
    }

    public Task<bool> RecordEventAsync(PerimeterEvent record) =>
        log.AppendAsync(AuditRecord.SerializeEvent(record, time.GetUtcNow(), scrubber));

    /// <summary>
    /// At startup: every intent of the series' newest files with no outcome (the gateway died mid-action)
    /// gets an outcome record <c>outcome_unknown</c> with the time it was found. Returns them, so the
    /// idempotency layer can treat their keys as "outcome unknown" too.
    /// </summary>
    public async Task<IReadOnlyList<UnknownOutcome>> RecoverAsync()
    {
        var open = AuditRecovery.OpenIntents(log.SeriesFiles());
        var found = time.GetUtcNow();
        foreach (var intent in open)
        {
            var fields = AuditRecord.SerializeUnknownOutcome(intent, found);
            if (!await log.AppendAsync(fields).ConfigureAwait(false))
                throw new IOException("the audit log refused an outcome_unknown record at startup");
            metrics.OutcomeUnknown();
        }
        return [.. open.Select(i => new UnknownOutcome(i.ActionId, i.IdempotencyScope, i.IdempotencyFingerprint))];
    }
}
