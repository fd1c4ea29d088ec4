using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AgentPerimeter.Harness;

/// <summary>
/// One agent session: the model loop, budgets, a write-ahead journal, logs and GenAI spans. Tool calls
/// are run by <see cref="ToolCallExecutor"/>; a crashed session resumes from its journal
/// (<see cref="JournalReplay"/>).
/// </summary>
internal sealed partial class HarnessSession(HarnessOptions options, IChatClient chat, GatewayClient gateway, ILogger logger, TimeProvider time)
{
    public const string SourceName = "AgentPerimeter.Harness";
    public static readonly ActivitySource Source = new(SourceName);

    private readonly ToolCallExecutor _tools = new(options, gateway, logger, time);

    public async Task<StopResult> StartAsync(CancellationToken cancellationToken)
    {
        var (agent, workType) = options.SessionToken is { } given
            ? (GatewayClient.DescribeToken(given).Agent, GatewayClient.DescribeToken(given).WorkType)
            : (options.Agent, options.WorkType);
        if (string.IsNullOrWhiteSpace(workType) || string.IsNullOrWhiteSpace(options.Task))
            throw new HarnessException("run needs --work-type (or a session token) and --task.");
        var (token, sessionId) = await gateway.StartSessionAsync(agent, workType, null, cancellationToken).ConfigureAwait(false);
        var state = new SessionState { SessionId = sessionId, WorkType = workType, Agent = agent, StartedAt = time.GetUtcNow() };
        state.Journal = Journal.Open(Journal.PathFor(options.JournalDirectory, sessionId), time);
        state.Journal.Append("session", new JsonObject
        {
            ["session_id"] = sessionId, ["agent"] = agent, ["work_type"] = workType, ["task"] = options.Task,
            ["model"] = ModelName, ["started_at"] = state.StartedAt.ToString("O"),
        });
        state.Messages.Add(new ChatMessage(ChatRole.System, options.SystemPrompt));
        state.Messages.Add(new ChatMessage(ChatRole.User, options.Task));
        Log.Started(logger, sessionId, workType, agent, ModelName, state.Journal.Path);
        return await RunAsync(state, token, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StopResult> ResumeAsync(string sessionId, CancellationToken cancellationToken)
    {
        var path = Journal.PathFor(options.JournalDirectory, sessionId);
        if (!File.Exists(path))
            throw new HarnessException($"no journal for session '{sessionId}' in {options.JournalDirectory}.");
        var entries = Journal.Read(path);
        if (JournalReplay.Stopped(sessionId, path, entries) is { } result)
        {
            Log.AlreadyStopped(logger, sessionId, result.Reason);
            return result;
        }
        var state = JournalReplay.Restore(sessionId, path, entries, options.SystemPrompt, time.GetUtcNow());
        state.Journal = Journal.Open(path, time);
        state.Journal.Append("resume", new JsonObject { ["pending_calls"] = state.Pending.Count, ["turns"] = state.Turns });
        Log.Resumed(logger, sessionId, state.Turns, state.Pending.Count);
        var (token, _) = await gateway.StartSessionAsync(state.Agent, state.WorkType, sessionId, cancellationToken).ConfigureAwait(false);
        return await RunAsync(state, token, cancellationToken).ConfigureAwait(false);
    }

    private string ModelName => options.ScriptFile is not null ? "scripted" : options.Model;

    private async Task<StopResult> RunAsync(SessionState state, string token, CancellationToken cancellationToken)
    {
        using var agentSpan = Source.StartActivity("invoke_agent " + state.Agent, ActivityKind.Internal);
        agentSpan?.SetTag("gen_ai.operation.name", "invoke_agent");
        agentSpan?.SetTag("gen_ai.agent.name", state.Agent);
        agentSpan?.SetTag("gen_ai.conversation.id", state.SessionId);
        agentSpan?.SetTag("gen_ai.provider.name", options.ScriptFile is not null ? "scripted" : "anthropic");
        agentSpan?.SetTag("agentperimeter.work_type", state.WorkType);
        try
        {
            state.Token = token;
            state.Tools = await gateway.ConnectAsync(token, cancellationToken).ConfigureAwait(false);
            Log.Tools(logger, state.SessionId, string.Join(", ", state.Tools.Keys.Order()));
            while (true)
            {
                foreach (var call in state.Pending.ToList())
                {
                    await _tools.ExecuteAsync(state, call, cancellationToken).ConfigureAwait(false);
                    state.Pending.Remove(call);
                    CheckBudgets(state);
                }
                CheckBudgets(state);
                if (state.Turns >= options.Budgets.MaxTurns)
                    throw new SessionStopException("max_turns", $"the model was called {state.Turns} times (limit {options.Budgets.MaxTurns})");

                var response = await CallModelAsync(state, cancellationToken).ConfigureAwait(false);
                if (response is null)
                    continue; // a model error, counted; the budgets decide whether to go on
                var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
                CheckBudgets(state);
                if (calls.Count == 0)
                    throw new SessionStopException("completed", response.Text);
                state.Pending = calls;
            }
        }
        catch (SessionStopException stop)
        {
            agentSpan?.SetTag("agentperimeter.stop_reason", stop.Reason);
            return Stop(state, stop.Reason, stop.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Stop(state, "cancelled", "the harness was stopped");
        }
        finally
        {
            state.Journal.Dispose();
        }
    }

    private void CheckBudgets(SessionState state)
    {
        var b = options.Budgets;
        if (state.InputTokens > b.MaxInputTokens)
            throw new SessionStopException("max_input_tokens", $"{state.InputTokens} input tokens used (limit {b.MaxInputTokens})");
        if (state.OutputTokens > b.MaxOutputTokens)
            throw new SessionStopException("max_output_tokens", $"{state.OutputTokens} output tokens used (limit {b.MaxOutputTokens})");
        var ran = time.GetUtcNow() - state.StartedAt;
        if (ran > b.MaxWallClock)
            throw new SessionStopException("max_wall_clock", $"the session has run {ran.TotalSeconds:0} s (limit {b.MaxWallClock.TotalSeconds:0} s)");
        if (state.ConsecutiveErrors >= b.MaxConsecutiveErrors)
            throw new SessionStopException("max_consecutive_errors", $"{state.ConsecutiveErrors} steps in a row failed or were refused (limit {b.MaxConsecutiveErrors})");
    }

    private StopResult Stop(SessionState state, string reason, string? detail)
    {
        state.Journal.Append("stop", new JsonObject
        {
            ["reason"] = reason, ["detail"] = detail, ["turns"] = state.Turns,
            ["input_tokens"] = state.InputTokens, ["output_tokens"] = state.OutputTokens,
        });
        Log.Stopped(logger, state.SessionId, reason, detail ?? "", state.Turns, state.InputTokens, state.OutputTokens);
        return new StopResult(state.SessionId, reason, detail, state.Turns, state.InputTokens, state.OutputTokens);
    }

    private async Task<ChatResponse?> CallModelAsync(SessionState state, CancellationToken cancellationToken)
    {
        using var span = Source.StartActivity("chat " + ModelName, ActivityKind.Client);
        span?.SetTag("gen_ai.operation.name", "chat");
        span?.SetTag("gen_ai.request.model", ModelName);
        span?.SetTag("gen_ai.conversation.id", state.SessionId);
        ChatResponse response;
        try
        {
            response = await chat.GetResponseAsync(state.Messages, new ChatOptions
            {
                ModelId = options.ScriptFile is null ? options.Model : null,
                MaxOutputTokens = options.MaxTokensPerTurn,
                Tools = [.. state.Tools.Values.Select(t => (AITool)t.Tool), .. _tools.OfferedLocalTools],
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            state.ConsecutiveErrors++;
            span?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            span?.SetTag("error.type", ex.GetType().Name);
            state.Journal.Append("model_error", new JsonObject { ["error"] = $"{ex.GetType().Name}: {ex.Message}" });
            Log.ModelFailed(logger, state.SessionId, ex.GetType().Name, ex.Message);
            CheckBudgets(state);
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, state.ConsecutiveErrors))), time, cancellationToken).ConfigureAwait(false);
            return null;
        }
        state.Turns++;
        long input = response.Usage?.InputTokenCount ?? 0, output = response.Usage?.OutputTokenCount ?? 0;
        state.InputTokens += input;
        state.OutputTokens += output;
        var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
        span?.SetTag("gen_ai.response.model", response.ModelId ?? ModelName);
        span?.SetTag("gen_ai.usage.input_tokens", input);
        span?.SetTag("gen_ai.usage.output_tokens", output);
        span?.SetTag("gen_ai.response.finish_reasons", new[] { response.FinishReason?.Value ?? "stop" });
        state.Journal.Append("model_turn", new JsonObject
        {
            ["turn"] = state.Turns,
            ["text"] = response.Text,
            ["tool_calls"] = new JsonArray([.. calls.Select(c => (JsonNode)new JsonObject
            {
                ["call_id"] = c.CallId, ["tool"] = c.Name, ["arguments"] = JsonNode.Parse(JsonSerializer.Serialize(c.Arguments ?? new Dictionary<string, object?>())),
            })]),
            ["input_tokens"] = input,
            ["output_tokens"] = output,
        });
        Log.ModelTurn(logger, state.SessionId, state.Turns, calls.Count, input, output, Shorten(response.Text));
        state.Messages.AddRange(response.Messages);
        return response;
    }

    internal static string Shorten(string? text) => text is null ? "" : text.Length <= 160 ? text.ReplaceLineEndings(" ") : text[..160].ReplaceLineEndings(" ") + "…";

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Session {SessionId} started: work type {WorkType}, agent {Agent}, model {Model}, journal {Journal}")]
        public static partial void Started(ILogger logger, string sessionId, string workType, string agent, string model, string journal);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Session {SessionId} resumed after {Turns} turns with {Pending} tool calls without an outcome")]
        public static partial void Resumed(ILogger logger, string sessionId, int turns, int pending);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Session {SessionId}: tools through the perimeter: {Tools}")]
        public static partial void Tools(ILogger logger, string sessionId, string tools);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Session {SessionId} turn {Turn}: {Calls} tool calls, {InputTokens} in / {OutputTokens} out tokens: {Text}")]
        public static partial void ModelTurn(ILogger logger, string sessionId, int turn, int calls, long inputTokens, long outputTokens, string text);

        [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Session {SessionId}: the model call failed ({ErrorType}: {Error})")]
        public static partial void ModelFailed(ILogger logger, string sessionId, string errorType, string error);

        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Session {SessionId} stopped: {Reason} ({Detail}); {Turns} turns, {InputTokens} in / {OutputTokens} out tokens")]
        public static partial void Stopped(ILogger logger, string sessionId, string reason, string detail, int turns, long inputTokens, long outputTokens);

        [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Session {SessionId} had already stopped: {Reason}")]
        public static partial void AlreadyStopped(ILogger logger, string sessionId, string reason);
    }
}
