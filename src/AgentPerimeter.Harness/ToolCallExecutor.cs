using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Messages;
using Microsoft.Extensions.AI;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentPerimeter.Harness;

/// <summary>
/// Runs the model's tool calls: each through the gateway with an idempotency key whose intent is
/// journaled first (write-ahead), acting on the perimeter's machine-readable refusals by
/// <see cref="ToolRetryPolicy"/>, waiting for a human where an approval is needed, and journaling a
/// typed outcome. A local tool runs here and is reported to the gateway as ungoverned.
/// </summary>
internal sealed partial class ToolCallExecutor(HarnessOptions options, GatewayClient gateway, ILogger logger, TimeProvider time)
{
    private readonly IReadOnlyDictionary<string, AIFunction> _localTools = BuiltInLocalTools.Create(time);

    private readonly SandboxedCommand _sandbox = new(options);

    /// <summary>The local tools the model is offered (and <c>run_command</c> when a sandbox is configured).</summary>
    public IEnumerable<AITool> OfferedLocalTools => options.LocalTools.Select(n => (AITool)_localTools[n])
        .Concat(options.SandboxEgressSocket is null ? [] : [RunCommandDeclaration]);

    private static readonly AIFunction RunCommandDeclaration = AIFunctionFactory.Create((string command) => "", SandboxedCommand.ToolName,
        "Runs a shell command (sh -c) in a sandbox whose network is the perimeter's egress proxy only: HTTP(S) to the hosts " +
        "the session's work type allows; everything else is refused. Returns the exit code and the output.");

    public async Task ExecuteAsync(SessionState state, FunctionCallContent call, CancellationToken cancellationToken)
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

        using var span = HarnessSession.Source.StartActivity("execute_tool " + call.Name, ActivityKind.Client);
        span?.SetTag("gen_ai.operation.name", "execute_tool");
        span?.SetTag("gen_ai.tool.name", call.Name);
        span?.SetTag("gen_ai.tool.call.id", call.CallId);
        span?.SetTag("gen_ai.tool.type", "extension");
        span?.SetTag("agentperimeter.idempotency_key", idempotencyKey);

        if (call.Name == SandboxedCommand.ToolName && options.SandboxEgressSocket is not null && !state.Tools.ContainsKey(call.Name))
        {
            await RunSandboxedAsync(state, call, span, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (options.LocalTools.Contains(call.Name) && !state.Tools.ContainsKey(call.Name))
        {
            await RunLocalAsync(state, call, argumentsJson, span, cancellationToken).ConfigureAwait(false);
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

        var retry = new ToolRetryPolicy(options.IdempotentTools.Contains(call.Name));
        int attempt = 0;
        while (true)
        {
            attempt++;
            var meta = new JsonObject { [PerimeterMeta.IdempotencyKey] = idempotencyKey };
            if (state.Approvals.TryGetValue(call.CallId, out var approvalId))
                meta[PerimeterMeta.ApprovalId] = approvalId;
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
            catch (McpProtocolException ex) when (!McpRefusal.IsPerimeterRefusal(ex))
            {
                // The MCP server's own error (not the perimeter's): the model is told; perimeter codes in
                // its text mean nothing.
                Finish(state, call, span, "tool_error", "mcp_error", $"The tool's server answered with an error: {ex.Message}", attempt);
                return;
            }
            catch (McpProtocolException ex)
            {
                var refusal = McpRefusal.Read(ex);
                var code = refusal?.Error ?? "mcp_error";
                span?.SetTag("agentperimeter.code", code);
                switch (ToolRetryPolicy.Classify(code))
                {
                    case RefusalKind.Temporary:
                    {
                        if (retry.NextWait(refusal?.RetryAfter) is not { } delay)
                        {
                            Finish(state, call, span, "failed", code, $"{ex.Message} Still not possible after {ToolRetryPolicy.MaxWaits} waits; the call's outcome is unknown if it was in progress.", attempt);
                            return;
                        }
                        Log.Waiting(logger, state.SessionId, call.Name, code, delay.TotalMilliseconds);
                        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    case RefusalKind.Approval:
                    {
                        if (!state.Approvals.ContainsKey(call.CallId) && refusal?.ApprovalId is { Length: > 0 } id)
                        {
                            state.Approvals[call.CallId] = id;
                            state.Journal.Append("approval_pending", new JsonObject { ["call_id"] = call.CallId, ["approval_id"] = id });
                        }
                        if (!state.Approvals.TryGetValue(call.CallId, out var waitingFor))
                        {
                            Finish(state, call, span, "denied", code, ex.Message, attempt);
                            return;
                        }
                        span?.SetTag("agentperimeter.approval_id", waitingFor);
                        var decision = await WaitForApprovalAsync(state, call, waitingFor, cancellationToken).ConfigureAwait(false);
                        if (decision == ApprovalStates.Approved)
                            continue;
                        if (decision == "unknown" && retry.MayAskForApprovalAgain())
                        {
                            // The gateway no longer knows the approval (it restarted): ask again.
                            state.Approvals.Remove(call.CallId);
                            continue;
                        }
                        Finish(state, call, span, "denied", "approval_" + decision,
                            decision == ApprovalStates.Denied ? $"A human operator denied this call to '{call.Name}' (approval {waitingFor}). Do not retry it."
                                : $"The approval {waitingFor} for this call is {decision}; the call was not made.", attempt);
                        return;
                    }
                    case RefusalKind.UpstreamFailure:
                    {
                        if (retry.NextUpstreamRetry() is not { } delay)
                        {
                            Finish(state, call, span, "failed", code, $"{ex.Message} The call was not retried: '{call.Name}' is not marked safe to repeat.", attempt);
                            return;
                        }
                        // Safe to repeat, by configuration: a fresh key, since the first one's outcome is recorded as unknown.
                        idempotencyKey = $"{state.Intents[call.CallId]}/retry{retry.UpstreamRetries}";
                        Log.Waiting(logger, state.SessionId, call.Name, code, delay.TotalMilliseconds);
                        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    default:
                        span?.SetTag("agentperimeter.decision", "deny");
                        Finish(state, call, span, "denied", code, $"The perimeter refused this call. {ex.Message}", attempt);
                        return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && retry.MayRetryUnreachable)
            {
                // The gateway itself unreachable: the same idempotency key makes the retry safe.
                var delay = retry.NextUnreachableRetry();
                Log.Waiting(logger, state.SessionId, call.Name, "gateway_unreachable", delay.TotalMilliseconds);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs a local tool here, outside the perimeter — and says so: the gateway records it as ungoverned.</summary>
    private async Task RunLocalAsync(SessionState state, FunctionCallContent call, string argumentsJson, Activity? span, CancellationToken cancellationToken)
    {
        var output = (await _localTools[call.Name].InvokeAsync(new AIFunctionArguments(call.Arguments), cancellationToken).ConfigureAwait(false))?.ToString() ?? "";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(argumentsJson)));
        var recorded = await gateway.ReportExternalAsync(call.Name, hash, "ok", cancellationToken).ConfigureAwait(false);
        span?.SetTag("agentperimeter.decision", "external");
        if (recorded is null)
            Log.Unreported(logger, state.SessionId, call.Name);
        Finish(state, call, span, "ok", recorded is null ? "local_unreported" : "local", output);
    }

    /// <summary>Polls the approval's status until a human decides; "unknown" when the gateway no longer knows it.</summary>
    private async Task<string> WaitForApprovalAsync(SessionState state, FunctionCallContent call, string approvalId, CancellationToken cancellationToken)
    {
        Log.Paused(logger, state.SessionId, call.Name, approvalId);
        var deadline = time.GetUtcNow() + options.ApprovalWait;
        while (time.GetUtcNow() < deadline)
        {
            var status = await gateway.ApprovalStatusAsync(approvalId, cancellationToken).ConfigureAwait(false);
            if (status is null)
                return "unknown";
            if (status != ApprovalStates.Pending)
            {
                Log.Decided(logger, state.SessionId, approvalId, status);
                return status;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken).ConfigureAwait(false);
        }
        throw new SessionStopException("approval_timeout", $"approval {approvalId} for '{call.Name}' was not decided within {options.ApprovalWait.TotalSeconds:0} s");
    }

    /// <summary>
    /// <c>run_command</c>: its connections are egress actions the gateway decides and records, so it is not
    /// reported as an ungoverned local action. A sandbox that cannot be made means the command never ran.
    /// </summary>
    private async Task RunSandboxedAsync(SessionState state, FunctionCallContent call, Activity? span, CancellationToken cancellationToken)
    {
        if (call.Arguments?.TryGetValue("command", out var value) != true || value?.ToString() is not { Length: > 0 } command)
        {
            Finish(state, call, span, "failed", "invalid_arguments", "run_command needs a 'command' string.");
            return;
        }
        var (ran, exit, output) = await _sandbox.RunAsync(state.Agent, state.Token, command, cancellationToken).ConfigureAwait(false);
        span?.SetTag("agentperimeter.decision", "sandboxed");
        if (!ran)
        {
            Finish(state, call, span, "failed", "sandbox_unavailable", $"The command was NOT run: no sandbox could be made (exit {exit}). {output}");
            return;
        }
        Finish(state, call, span, exit == 0 ? "ok" : "tool_error", "sandboxed", $"exit {exit}\n{output}");
    }

    private void Finish(SessionState state, FunctionCallContent call, Activity? span, string outcome, string? code, string text, int attempts = 1)
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
        Log.ToolOutcome(logger, state.SessionId, call.Name, JsonSerializer.Serialize(call.Arguments), outcome, code ?? "", HarnessSession.Shorten(text));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Session {SessionId}: {Tool}({Arguments}) → {Outcome} {Code} {Text}")]
        public static partial void ToolOutcome(ILogger logger, string sessionId, string tool, string arguments, string outcome, string code, string text);

        [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Session {SessionId}: {Tool} waits {DelayMs:0} ms ({Code})")]
        public static partial void Waiting(ILogger logger, string sessionId, string tool, string code, double delayMs);

        [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Session {SessionId} paused: {Tool} needs a human's approval ({ApprovalId}); perimeter approvals approve {ApprovalId}")]
        public static partial void Paused(ILogger logger, string sessionId, string tool, string approvalId);

        [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Session {SessionId}: approval {ApprovalId} {Status}")]
        public static partial void Decided(ILogger logger, string sessionId, string approvalId, string status);

        [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Session {SessionId}: local tool {Tool} ran but could not be reported to the gateway (journaled as local_unreported)")]
        public static partial void Unreported(ILogger logger, string sessionId, string tool);
    }
}
