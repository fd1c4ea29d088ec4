namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// The one place records are written from: actions, the server messages streamed back on an action,
/// and events of the perimeter itself (tunnels connecting, ...). The audit folder implements it; every
/// other folder only sees this interface.
/// </summary>
public interface IActionRecorder
{
    /// <summary>True when records can be written now (or the sink recovered); false means refuse actions.</summary>
    bool CanRecord();

    /// <summary>
    /// Writes the action's intent record — everything known before forwarding — and returns true once it
    /// is durable; nothing may be forwarded otherwise. The action's final record then is its outcome.
    /// </summary>
    Task<bool> RecordIntentAsync(ActionContext action);

    /// <summary>Writes the action's final record (its outcome after an intent, or its single record) and counts it; true once durable.</summary>
    Task<bool> RecordAsync(ActionContext action);

    /// <summary>Counts an action that was refused because nothing could record it (metrics only, never governed).</summary>
    void CountUnrecorded(ActionContext action);

    /// <summary>Records a notification or request an MCP server streamed back on <paramref name="parent"/>. Observed, not awaited: the stream is not held back.</summary>
    void RecordServerMessage(ActionContext parent, string method, bool isRequest);

    /// <summary>Writes a record of another kind (a tunnel event, ...); true once it is durable.</summary>
    Task<bool> RecordEventAsync(PerimeterEvent record);
}
