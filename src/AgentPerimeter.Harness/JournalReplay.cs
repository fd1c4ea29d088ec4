using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AgentPerimeter.Harness;

/// <summary>
/// Rebuilds a session from its journal after a crash: the conversation as the model saw it, the
/// counters the budgets check, the intents and approvals of calls in flight, and which of the last
/// turn's calls have no outcome yet (they are repeated under the same idempotency keys).
/// </summary>
internal static class JournalReplay
{
    /// <summary>The session's result when its journal says it already stopped; null when it can go on.</summary>
    public static StopResult? Stopped(string sessionId, string path, IReadOnlyList<JsonObject> entries)
    {
        _ = Head(path, entries);
        return entries.LastOrDefault(e => (string?)e["type"] == "stop") is { } stopped
            ? new StopResult(sessionId, (string)stopped["reason"]!, (string?)stopped["detail"], (int?)stopped["turns"] ?? 0,
                (long?)stopped["input_tokens"] ?? 0, (long?)stopped["output_tokens"] ?? 0)
            : null;
    }

    /// <summary>The session's state as of its last journal entry (its <see cref="SessionState.Journal"/> is not opened).</summary>
    public static SessionState Restore(string sessionId, string path, IReadOnlyList<JsonObject> entries, string systemPrompt, DateTimeOffset now)
    {
        var head = Head(path, entries);
        var state = new SessionState
        {
            SessionId = sessionId,
            WorkType = (string)head["work_type"]!,
            Agent = (string)head["agent"]!,
            StartedAt = now - ActiveTime(entries),
        };
        state.Messages.Add(new ChatMessage(ChatRole.System, systemPrompt));
        state.Messages.Add(new ChatMessage(ChatRole.User, (string)head["task"]!));
        var outcomes = new HashSet<string>();
        List<FunctionCallContent> lastCalls = [];
        foreach (var e in entries)
        {
            switch ((string?)e["type"])
            {
                case "model_turn":
                    state.Turns++;
                    state.InputTokens += (long?)e["input_tokens"] ?? 0;
                    state.OutputTokens += (long?)e["output_tokens"] ?? 0;
                    var contents = new List<AIContent>();
                    if ((string?)e["text"] is { Length: > 0 } text)
                        contents.Add(new TextContent(text));
                    lastCalls = [];
                    foreach (var c in e["tool_calls"]?.AsArray() ?? [])
                    {
                        var args = JsonSerializer.Deserialize<Dictionary<string, object?>>(c!["arguments"]?.ToJsonString() ?? "{}")!;
                        var call = new FunctionCallContent((string)c["call_id"]!, (string)c["tool"]!, args);
                        contents.Add(call);
                        lastCalls.Add(call);
                    }
                    state.Messages.Add(new ChatMessage(ChatRole.Assistant, contents));
                    break;
                case "tool_intent":
                    state.Intents[(string)e["call_id"]!] = (string)e["idempotency_key"]!;
                    break;
                case "approval_pending":
                    state.Approvals[(string)e["call_id"]!] = (string)e["approval_id"]!;
                    break;
                case "model_error":
                    state.ConsecutiveErrors++;
                    break;
                case "tool_outcome":
                    outcomes.Add((string)e["call_id"]!);
                    state.ConsecutiveErrors = (string?)e["outcome"] == "ok" ? 0 : state.ConsecutiveErrors + 1;
                    state.Messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent((string)e["call_id"]!, (string?)e["text"])]));
                    break;
            }
        }
        state.Pending = lastCalls.Where(c => !outcomes.Contains(c.CallId)).ToList();
        return state;
    }

    /// <summary>The journal's first entry: who, what work type, which task.</summary>
    private static JsonObject Head(string path, IReadOnlyList<JsonObject> entries) =>
        entries.FirstOrDefault(e => (string?)e["type"] == "session") ?? throw new HarnessException($"{path} has no session entry.");

    /// <summary>
    /// The wall-clock budget counts the time the session ran, not the time the harness was down: each
    /// run lasts from its session/resume entry to its last entry.
    /// </summary>
    private static TimeSpan ActiveTime(IReadOnlyList<JsonObject> entries)
    {
        var active = TimeSpan.Zero;
        DateTimeOffset? runStart = null, last = null;
        foreach (var e in entries)
        {
            if ((string?)e["time"] is not { } t)
                continue;
            var at = DateTimeOffset.Parse(t, CultureInfo.InvariantCulture);
            if ((string?)e["type"] is "session" or "resume")
            {
                if (runStart is { } s0 && last is { } l0)
                    active += l0 - s0;
                runStart = at;
            }
            last = at;
        }
        if (runStart is { } s1 && last is { } l1)
            active += l1 - s1;
        return active;
    }
}
