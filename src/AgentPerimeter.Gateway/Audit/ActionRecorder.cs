using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// Writes every record the gateway keeps — actions, server messages, tunnel events — into the one
/// audit chain, and counts each action once in the metrics. Every free text goes through the scrubber.
/// </summary>
internal sealed class ActionRecorder(AuditLog log, PerimeterMetrics metrics, SecretScrubber scrubber, TimeProvider time) : IActionRecorder
{
    public bool CanRecord() => log.EnsureWritable();

    public async Task<bool> RecordAsync(ActionContext action)
    {
        var fields = AuditRecord.SerializeFields(action, scrubber);
        bool durable = await log.AppendAsync(fields).ConfigureAwait(false);
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
}
