using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AgentPerimeter.Harness;

/// <summary>
/// A model that plays a file of turns: offline runs, demos and tests. Turn n answers the n-th model
/// call of the session (counted from the assistant messages already in the conversation, so a
/// resumed session continues where it stopped). Tokens are estimated (4 characters each) so budgets
/// apply as with a real model.
/// </summary>
/// <remarks>
/// File format: <c>{ "turns": [ { "text": "...", "tool_calls": [ { "tool": "search_docs", "arguments": { "query": "deploy" } } ] }, { "text": "done" } ] }</c>.
/// </remarks>
public sealed class ScriptedChatClient : IChatClient
{
    private readonly List<ScriptedTurn> _turns;

    public ScriptedChatClient(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        _turns = doc.RootElement.GetProperty("turns").EnumerateArray().Select(t => new ScriptedTurn(
            t.TryGetProperty("text", out var text) ? text.GetString() ?? "" : "",
            t.TryGetProperty("tool_calls", out var calls)
                ? calls.EnumerateArray().Select(c => (c.GetProperty("tool").GetString()!,
                    c.TryGetProperty("arguments", out var a) ? JsonSerializer.Deserialize<Dictionary<string, object?>>(a.GetRawText())! : new Dictionary<string, object?>())).ToList()
                : [])).ToList();
    }

    private sealed record ScriptedTurn(string Text, List<(string Tool, Dictionary<string, object?> Arguments)> Calls);

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var history = messages.ToList();
        int index = history.Count(m => m.Role == ChatRole.Assistant);
        var turn = index < _turns.Count ? _turns[index] : new ScriptedTurn("(the script has no more turns)", []);
        var contents = new List<AIContent>();
        if (turn.Text.Length > 0)
            contents.Add(new TextContent(turn.Text));
        for (int i = 0; i < turn.Calls.Count; i++)
            contents.Add(new FunctionCallContent($"call_{index + 1}_{i + 1}", turn.Calls[i].Tool, turn.Calls[i].Arguments));
        long input = history.Sum(m => (long)(m.Text?.Length ?? 0) + m.Contents.OfType<FunctionResultContent>().Sum(r => r.Result?.ToString()?.Length ?? 0)) / 4 + 1;
        long output = (turn.Text.Length + turn.Calls.Sum(c => JsonSerializer.Serialize(c.Arguments).Length + c.Tool.Length)) / 4 + 1;
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, contents))
        {
            ModelId = "scripted",
            FinishReason = turn.Calls.Count > 0 ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output },
        });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The harness asks for whole responses.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() { }
}
