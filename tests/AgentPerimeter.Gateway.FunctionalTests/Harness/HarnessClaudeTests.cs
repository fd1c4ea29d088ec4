using System.Diagnostics;
using System.Text.Json;
using AgentPerimeter.Harness;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AgentPerimeter.Gateway.FunctionalTests.Harness;

/// <summary>
/// The harness driving "Claude" through the official Anthropic .NET SDK, against a stand-in for the
/// Messages API (WireMock) that returns tool-use turns, the real gateway and a real SDK MCP server.
/// </summary>
public class HarnessClaudeTests
{
    private static string Message(string id, string stopReason, int input, int output, params object[] content) => JsonSerializer.Serialize(new
    {
        id, type = "message", role = "assistant", model = "claude-sonnet-4-5", content, stop_reason = stopReason, stop_sequence = (string?)null,
        usage = new { input_tokens = input, output_tokens = output },
    });

    private static object ToolUse(string id, string name, object input) => new { type = "tool_use", id, name, input };

    private static object Text(string text) => new { type = "text", text };

    private static HarnessOptions ClaudeOptions(HarnessSetup setup, string workType, WireMockServer api) => setup.Options(workType, null) with
    {
        AnthropicApiKey = "sk-ant-test-" + Guid.NewGuid().ToString("N"),
        AnthropicBaseUrl = api.Url!,
        Model = "claude-sonnet-4-5",
    };

    private static async Task<StopResult> RunAsync(HarnessOptions options)
    {
        using var loggers = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        return await HarnessApp.RunSessionAsync(options, null, CancellationToken.None,
            HarnessApp.CreateChatClient(options, loggers.CreateLogger("model")));
    }

    [Fact]
    public async Task Claude_ThroughTheAnthropicSdk_CompletesAMultiStepSession_AgainstTheRealGateway()
    {
        await using var setup = await HarnessSetup.StartAsync();
        using var api = WireMockServer.Start();
        api.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("session").WillSetStateTo("searched")
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json")
                .WithBody(Message("msg_1", "tool_use", 120, 30, Text("Let me search the docs."), ToolUse("toolu_1", "search_docs", new { text = "rollback" }))));
        api.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("session").WhenStateIs("searched").WillSetStateTo("read")
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json")
                .WithBody(Message("msg_2", "tool_use", 200, 25, ToolUse("toolu_2", "read_file", new { path = "/workspace/runbook.md" }))));
        api.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("session").WhenStateIs("read")
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json")
                .WithBody(Message("msg_3", "end_turn", 300, 40, Text("The runbook says to roll back with the release pipeline."))));

        var result = await RunAsync(ClaudeOptions(setup, "build", api));

        Assert.Equal("completed", result.Reason);
        Assert.Contains("roll back", result.Detail);
        Assert.Equal(3, result.Turns);
        Assert.Equal(620, result.InputTokens);
        Assert.Equal(95, result.OutputTokens);
        Assert.Equal(1, setup.CallsOf("search_docs"));
        Assert.Equal(1, setup.CallsOf("read_file"));

        // What the model was sent: the tools the perimeter listed, and each tool's result.
        var requests = api.LogEntries.Select(e => JsonDocument.Parse(e.RequestMessage!.Body!).RootElement).ToList();
        Assert.Equal(3, requests.Count);
        var tools = requests[0].GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Order().ToArray();
        Assert.Equal(["read_file", "search_docs", "slow_job"], tools); // deploy is not this work type's
        var last = requests[2].GetProperty("messages").ToString();
        Assert.Contains("search_docs ran with text=rollback", last);
        Assert.Contains("read_file ran with text= path=/workspace/runbook.md", last);
        // The SDK sent the key from the harness's configuration to the model API (and only there).
        Assert.All(api.LogEntries, e => Assert.Contains(e.RequestMessage!.Headers!, h => h.Value.Any(v => v.Contains("sk-ant-test-"))));
    }

    [Fact]
    public async Task ModelApi429_IsRetried_HonouringRetryAfter()
    {
        await using var setup = await HarnessSetup.StartAsync();
        using var api = WireMockServer.Start();
        api.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("busy").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("retry-after", "1").WithHeader("Content-Type", "application/json")
                .WithBody("""{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}"""));
        api.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("busy").WhenStateIs("ok")
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json")
                .WithBody(Message("msg_1", "end_turn", 50, 5, Text("Nothing to do."))));
        var clock = Stopwatch.StartNew();

        var result = await RunAsync(ClaudeOptions(setup, "build", api));

        Assert.Equal("completed", result.Reason);
        Assert.Equal(2, api.LogEntries.Count());
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"retried after {clock.Elapsed.TotalMilliseconds:0} ms, before retry-after");
        Assert.Equal(1, result.Turns);
    }
}
