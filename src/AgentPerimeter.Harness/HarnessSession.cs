using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentPerimeter.Harness;

/// <summary>How a session ended: a typed reason (journaled and printed) and a detail.</summary>
public sealed record StopResult(string SessionId, string Reason, string? Detail, int Turns, long InputTokens, long OutputTokens);

/// <summary>
/// One agent session: the model loop, every tool call sent through the gateway with an idempotency
/// key, a write-ahead journal, typed outcomes, approvals, budgets, logs and GenAI spans.
/// </summary>
public sealed partial class HarnessSession(HarnessOptions options, IChatClient chat, GatewayClient gateway, ILogger logger)
{
    public const string SourceName = "AgentPerimeter.Harness";
    public static readonly ActivitySource Source = new(SourceName);
    public const string IdempotencyMetaKey = "io.agentperimeter/idempotency-key";
    public const string ApprovalMetaKey = "io.agentperimeter/approval-id";

    /// <summary>Tools the harness can run itself (outside the perimeter), by name: each call is reported as ungoverned.</summary>
    public static readonly IReadOnlyDictionary<string, AIFunction> BuiltInLocalTools = new Dictionary<string, AIFunction>(StringComparer.Ordinal)
    {
        ["current_time"] = AIFunctionFactory.Create(() => DateTimeOffset.UtcNow.ToString("O"), "current_time",
            "The current UTC date and time. Runs locally in the harness, outside the perimeter."),
    };

    /// <summary>The JSON-RPC error code of the perimeter's refusals (its reason is in the message).</summary>
    public const int PerimeterRefusal = -32001;

    private sealed class State
    {
        public required string SessionId { get; init; }
        public required string WorkType { get; init; }
        public required string Agent { get; init; }
        public required DateTimeOffset StartedAt { get; init; }
        public List<ChatMessage> Messages { get; } = [];
        public int Turns;
        public long InputTokens, OutputTokens;
        public int ConsecutiveErrors;
        /// <summary>Call id → idempotency key, for every call whose intent is journaled.</summary>
        public Dictionary<string, string> Intents { get; } = [];
        public Dictionary<string, string> Approvals { get; } = [];
        public List<FunctionCallContent> Pending { get; set; } = [];
        public Journal Journal { get; set; } = null!;
        public Dictionary<string, (McpClient Client, McpClientTool Tool)> Tools { get; set; } = [];
    }

    private sealed class StopException(string reason, string detail) : Exception(detail)
    {
        public string Reason { get; } = reason;
    }

    public async Task<StopResult> StartAsync(CancellationToken cancellationToken)
    {
        var (agent, workType) = options.SessionToken is { } given
            ? (GatewayClient.DescribeToken(given).Agent, GatewayClient.DescribeToken(given).WorkType)
            : (options.Agent, options.WorkType);
        if (string.IsNullOrWhiteSpace(workType) || string.IsNullOrWhiteSpace(options.Task))
            throw new HarnessException("run needs --work-type (or a session token) and --task.");
        var (token, sessionId) = await gateway.StartSessionAsync(agent, workType, null, cancellationToken).ConfigureAwait(false);
        var state = new State { SessionId = sessionId, WorkType = workType, Agent = agent, StartedAt = DateTimeOffset.UtcNow };
        state.Journal = Journal.Open(Journal.PathFor(options.JournalDirectory, sessionId));
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
        var head = entries.FirstOrDefault(e => (string?)e["type"] == "session") ?? throw new HarnessException($"{path} has no session entry.");
        if (entries.LastOrDefault(e => (string?)e["type"] == "stop") is { } stopped)
        {
            var result = new StopResult(sessionId, (string)stopped["reason"]!, (string?)stopped["detail"], (int?)stopped["turns"] ?? 0, (long?)stopped["input_tokens"] ?? 0, (long?)stopped["output_tokens"] ?? 0);
            Log.AlreadyStopped(logger, sessionId, result.Reason);
            return result;
        }

        // The wall-clock budget counts the time the session ran, not the time the harness was down:
        // add up each run (from its session/resume entry to its last entry) and start the clock that far back.
        var active = TimeSpan.Zero;
        DateTimeOffset? runStart = null, last = null;
        foreach (var e in entries)
        {
            if ((string?)e["time"] is not { } t)
                continue;
            var at = DateTimeOffset.Parse(t, System.Globalization.CultureInfo.InvariantCulture);
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
        var state = new State
        {
            SessionId = sessionId,
            WorkType = (string)head["work_type"]!,
            Agent = (string)head["agent"]!,
            StartedAt = DateTimeOffset.UtcNow - active,
        };
        state.Messages.Add(new ChatMessage(ChatRole.System, options.SystemPrompt));
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
        state.Journal = Journal.Open(path);
        state.Journal.Append("resume", new JsonObject { ["pending_calls"] = state.Pending.Count, ["turns"] = state.Turns });
        Log.Resumed(logger, sessionId, state.Turns, state.Pending.Count);
        var (token, _) = await gateway.StartSessionAsync(state.Agent, state.WorkType, sessionId, cancellationToken).ConfigureAwait(false);
        return await RunAsync(state, token, cancellationToken).ConfigureAwait(false);
    }

    private string ModelName => options.ScriptFile is not null ? "scripted" : options.Model;

    private async Task<StopResult> RunAsync(State state, string token, CancellationToken cancellationToken)
    {
        using var agentSpan = Source.StartActivity("invoke_agent " + state.Agent, ActivityKind.Internal);
        agentSpan?.SetTag("gen_ai.operation.name", "invoke_agent");
        agentSpan?.SetTag("gen_ai.agent.name", state.Agent);
        agentSpan?.SetTag("gen_ai.conversation.id", state.SessionId);
        agentSpan?.SetTag("gen_ai.provider.name", options.ScriptFile is not null ? "scripted" : "anthropic");
        agentSpan?.SetTag("agentperimeter.work_type", state.WorkType);
        try
        {
            state.Tools = await gateway.ConnectAsync(token, cancellationToken).ConfigureAwait(false);
            Log.Tools(logger, state.SessionId, string.Join(", ", state.Tools.Keys.Order()));
            while (true)
            {
                foreach (var call in state.Pending.ToList())
                {
                    await ExecuteToolAsync(state, call, cancellationToken).ConfigureAwait(false);
                    state.Pending.Remove(call);
                    CheckBudgets(state);
                }
                CheckBudgets(state);
                if (state.Turns >= options.Budgets.MaxTurns)
                    throw new StopException("max_turns", $"the model was called {state.Turns} times (limit {options.Budgets.MaxTurns})");

                var response = await CallModelAsync(state, cancellationToken).ConfigureAwait(false);
                if (response is null)
                    continue; // a model error, counted; the budgets decide whether to go on
                var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
                CheckBudgets(state);
                if (calls.Count == 0)
                    throw new StopException("completed", response.Text);
                state.Pending = calls;
            }
        }
        catch (StopException stop)
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

    private void CheckBudgets(State state)
    {
        var b = options.Budgets;
        if (state.InputTokens > b.MaxInputTokens)
            throw new StopException("max_input_tokens", $"{state.InputTokens} input tokens used (limit {b.MaxInputTokens})");
        if (state.OutputTokens > b.MaxOutputTokens)
            throw new StopException("max_output_tokens", $"{state.OutputTokens} output tokens used (limit {b.MaxOutputTokens})");
        if (DateTimeOffset.UtcNow - state.StartedAt > b.MaxWallClock)
            throw new StopException("max_wall_clock", $"the session has run {(DateTimeOffset.UtcNow - state.StartedAt).TotalSeconds:0} s (limit {b.MaxWallClock.TotalSeconds:0} s)");
        if (state.ConsecutiveErrors >= b.MaxConsecutiveErrors)
            throw new StopException("max_consecutive_errors", $"{state.ConsecutiveErrors} steps in a row failed or were refused (limit {b.MaxConsecutiveErrors})");
    }

    private StopResult Stop(State state, string reason, string? detail)
    {
        state.Journal.Append("stop", new JsonObject
        {
            ["reason"] = reason, ["detail"] = detail, ["turns"] = state.Turns,
            ["input_tokens"] = state.InputTokens, ["output_tokens"] = state.OutputTokens,
        });
        Log.Stopped(logger, state.SessionId, reason, detail ?? "", state.Turns, state.InputTokens, state.OutputTokens);
        return new StopResult(state.SessionId, reason, detail, state.Turns, state.InputTokens, state.OutputTokens);
    }

    private async Task<ChatResponse?> CallModelAsync(State state, CancellationToken cancellationToken)
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
                Tools = [.. state.Tools.Values.Select(t => (AITool)t.Tool), .. options.LocalTools.Select(n => (AITool)BuiltInLocalTools[n])],
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
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, state.ConsecutiveErrors))), cancellationToken).ConfigureAwait(false);
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

    private async Task ExecuteToolAsync(State state, FunctionCallContent call, CancellationToken cancellationToken)
    {
        var argumentsJson = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>());
        // The key names the session, the model turn and the call: unique even if a provider reuses call ids.
        if (!state.Intents.TryGetValue(call.CallId, out var idempotencyKey))
        {
            idempotencyKey = $"{state.SessionId}/{state.Turns}/{call.CallId}";
            state.Intents[call.CallId] = idempotencyKey;
            // Write-ahead: the intent is durable before the call can reach anything.
            state.Journal.Append("tool_intent", new JsonObject
            {
                ["call_id"] = call.CallId, ["tool"] = call.Name,
                ["arguments_hash"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(argumentsJson))),
                ["idempotency_key"] = idempotencyKey,
            });
        }

        using var span = Source.StartActivity("execute_tool " + call.Name, ActivityKind.Client);
        span?.SetTag("gen_ai.operation.name", "execute_tool");
        span?.SetTag("gen_ai.tool.name", call.Name);
        span?.SetTag("gen_ai.tool.call.id", call.CallId);
        span?.SetTag("gen_ai.tool.type", "extension");
        span?.SetTag("agentperimeter.idempotency_key", idempotencyKey);

        if (options.LocalTools.Contains(call.Name) && !state.Tools.ContainsKey(call.Name))
        {
            // Run here, outside the perimeter — and said so: the gateway records it as ungoverned.
            var output = (await BuiltInLocalTools[call.Name].InvokeAsync(new AIFunctionArguments(call.Arguments), cancellationToken).ConfigureAwait(false))?.ToString() ?? "";
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(argumentsJson)));
            var recorded = await gateway.ReportExternalAsync(call.Name, hash, "ok", cancellationToken).ConfigureAwait(false);
            span?.SetTag("agentperimeter.decision", "external");
            if (recorded is null)
                Log.Unreported(logger, state.SessionId, call.Name);
            Finish(state, call, span, "ok", recorded is null ? "local_unreported" : "local", output);
            return;
        }

        // A tool the perimeter did not list is still asked for through the perimeter (on the first MCP
        // route): the gateway decides and records the refusal; the harness never decides on its own.
        var client = state.Tools.TryGetValue(call.Name, out var listed) ? listed.Client : gateway.Clients.FirstOrDefault();
        if (client is null)
        {
            Finish(state, call, span, "failed", "no_mcp_route", $"This session has no MCP route to send '{call.Name}' to.");
            return;
        }

        int attempt = 0, waits = 0, upstreamRetries = 0, networkRetries = 0;
        while (true)
        {
            attempt++;
            var meta = new JsonObject { [IdempotencyMetaKey] = idempotencyKey };
            if (state.Approvals.TryGetValue(call.CallId, out var approvalId))
                meta[ApprovalMetaKey] = approvalId;
            try
            {
                var result = await client.CallToolAsync(call.Name, call.Arguments?.ToDictionary(p => p.Key, p => p.Value),
                    progress: null, options: new RequestOptions { Meta = meta }, cancellationToken).ConfigureAwait(false);
#if DEBUG
                if (options.CrashAfterCallOf == call.Name)
                    Environment.Exit(137); // test hook (Debug builds only): the call happened, its outcome is not journaled
#endif
                var text = string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));
                span?.SetTag("agentperimeter.decision", "allow");
                Finish(state, call, span, result.IsError == true ? "tool_error" : "ok", null, text, attempt);
                return;
            }
            catch (McpProtocolException ex) when ((int)ex.ErrorCode != PerimeterRefusal)
            {
                // The MCP server's own error (not the perimeter's): the model is told; perimeter codes in
                // its text mean nothing.
                Finish(state, call, span, "tool_error", "mcp_error", $"The tool's server answered with an error: {ex.Message}", attempt);
                return;
            }
            catch (McpProtocolException ex)
            {
                var code = Regex.Match(ex.Message, @"\[(?<code>[a-z_]+)\]") is { Success: true } m ? m.Groups["code"].Value : "mcp_error";
                TimeSpan? retryAfter = Regex.Match(ex.Message, @"Retry after (?<ms>\d{1,9}) ms") is { Success: true } r && long.TryParse(r.Groups["ms"].Value, out var ms)
                    ? TimeSpan.FromMilliseconds(Math.Min(ms, 60_000)) : null;
                span?.SetTag("agentperimeter.code", code);
                switch (code)
                {
                    case "rate_limited" or "ratelimit_unavailable" or "idempotency_in_progress" or "idempotency_unavailable" or "tunnel_unavailable" or "audit_unavailable":
                    {
                        if (++waits > 5)
                        {
                            Finish(state, call, span, "failed", code, $"{ex.Message} Still not possible after {waits - 1} waits; the call's outcome is unknown if it was in progress.", attempt);
                            return;
                        }
                        var delay = retryAfter ?? TimeSpan.FromMilliseconds(500 * waits);
                        Log.Waiting(logger, state.SessionId, call.Name, code, delay.TotalMilliseconds);
                        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    case "approval_required" or "approval_pending":
                    {
                        if (!state.Approvals.ContainsKey(call.CallId) && Regex.Match(ex.Message, @"apr_[0-9a-f]{32}") is { Success: true } id)
                        {
                            state.Approvals[call.CallId] = id.Value;
                            state.Journal.Append("approval_pending", new JsonObject { ["call_id"] = call.CallId, ["approval_id"] = id.Value });
                        }
                        if (!state.Approvals.TryGetValue(call.CallId, out var waitingFor))
                        {
                            Finish(state, call, span, "denied", code, ex.Message, attempt);
                            return;
                        }
                        span?.SetTag("agentperimeter.approval_id", waitingFor);
                        var decision = await WaitForApprovalAsync(state, call, waitingFor, cancellationToken).ConfigureAwait(false);
                        if (decision == "approved")
                            continue;
                        if (decision == "unknown" && ++waits <= 5)
                        {
                            // The gateway no longer knows the approval (it restarted): ask again.
                            state.Approvals.Remove(call.CallId);
                            continue;
                        }
                        Finish(state, call, span, "denied", "approval_" + decision,
                            decision == "denied" ? $"A human operator denied this call to '{call.Name}' (approval {waitingFor}). Do not retry it."
                                : $"The approval {waitingFor} for this call is {decision}; the call was not made.", attempt);
                        return;
                    }
                    case "upstream_unavailable" or "upstream_timeout" or "idempotency_outcome_unknown" when options.IdempotentTools.Contains(call.Name) && upstreamRetries < 3:
                    {
                        // Safe to repeat, by configuration: a fresh key, since the first one's outcome is recorded as unknown.
                        upstreamRetries++;
                        idempotencyKey = $"{state.Intents[call.CallId]}/retry{upstreamRetries}";
                        var delay = TimeSpan.FromMilliseconds(500 * Math.Pow(2, upstreamRetries - 1));
                        Log.Waiting(logger, state.SessionId, call.Name, code, delay.TotalMilliseconds);
                        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    case "upstream_unavailable" or "upstream_timeout" or "idempotency_outcome_unknown":
                        Finish(state, call, span, "failed", code, $"{ex.Message} The call was not retried: '{call.Name}' is not marked safe to repeat.", attempt);
                        return;
                    default:
                        span?.SetTag("agentperimeter.decision", "deny");
                        Finish(state, call, span, "denied", code, $"The perimeter refused this call. {ex.Message}", attempt);
                        return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && networkRetries < 5)
            {
                // The gateway itself unreachable: the same idempotency key makes the retry safe.
                networkRetries++;
                var delay = TimeSpan.FromMilliseconds(500 * Math.Pow(2, networkRetries - 1));
                Log.Waiting(logger, state.SessionId, call.Name, "gateway_unreachable", delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<string> WaitForApprovalAsync(State state, FunctionCallContent call, string approvalId, CancellationToken cancellationToken)
    {
        Log.Paused(logger, state.SessionId, call.Name, approvalId);
        var deadline = DateTimeOffset.UtcNow + options.ApprovalWait;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var status = await gateway.ApprovalStatusAsync(approvalId, cancellationToken).ConfigureAwait(false);
            if (status is null)
                return "unknown";
            if (status != "pending")
            {
                Log.Decided(logger, state.SessionId, approvalId, status);
                return status;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
        }
        throw new StopException("approval_timeout", $"approval {approvalId} for '{call.Name}' was not decided within {options.ApprovalWait.TotalSeconds:0} s");
    }

    private void Finish(State state, FunctionCallContent call, Activity? span, string outcome, string? code, string text, int attempts = 1)
    {
        state.ConsecutiveErrors = outcome == "ok" ? 0 : state.ConsecutiveErrors + 1;
        span?.SetTag("agentperimeter.outcome", outcome);
        if (outcome != "ok")
            span?.SetStatus(ActivityStatusCode.Error, code ?? outcome);
        state.Journal.Append("tool_outcome", new JsonObject
        {
            ["call_id"] = call.CallId, ["tool"] = call.Name, ["outcome"] = outcome, ["code"] = code, ["text"] = text, ["attempts"] = attempts,
        });
        state.Messages.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, text)]));
        Log.ToolOutcome(logger, state.SessionId, call.Name, JsonSerializer.Serialize(call.Arguments), outcome, code ?? "", Shorten(text));
    }

    private static string Shorten(string? text) => text is null ? "" : text.Length <= 160 ? text.ReplaceLineEndings(" ") : text[..160].ReplaceLineEndings(" ") + "…";

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

        [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Session {SessionId}: {Tool}({Arguments}) → {Outcome} {Code} {Text}")]
        public static partial void ToolOutcome(ILogger logger, string sessionId, string tool, string arguments, string outcome, string code, string text);

        [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Session {SessionId}: {Tool} waits {DelayMs:0} ms ({Code})")]
        public static partial void Waiting(ILogger logger, string sessionId, string tool, string code, double delayMs);

        [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Session {SessionId} paused: {Tool} needs a human's approval ({ApprovalId}); perimeter approvals approve {ApprovalId}")]
        public static partial void Paused(ILogger logger, string sessionId, string tool, string approvalId);

        [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Session {SessionId}: approval {ApprovalId} {Status}")]
        public static partial void Decided(ILogger logger, string sessionId, string approvalId, string status);

        [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Session {SessionId}: the model call failed ({ErrorType}: {Error})")]
        public static partial void ModelFailed(ILogger logger, string sessionId, string errorType, string error);

        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Session {SessionId} stopped: {Reason} ({Detail}); {Turns} turns, {InputTokens} in / {OutputTokens} out tokens")]
        public static partial void Stopped(ILogger logger, string sessionId, string reason, string detail, int turns, long inputTokens, long outputTokens);

        [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Session {SessionId}: local tool {Tool} ran but could not be reported to the gateway (journaled as local_unreported)")]
        public static partial void Unreported(ILogger logger, string sessionId, string tool);

        [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Session {SessionId} had already stopped: {Reason}")]
        public static partial void AlreadyStopped(ILogger logger, string sessionId, string reason);
    }
}
