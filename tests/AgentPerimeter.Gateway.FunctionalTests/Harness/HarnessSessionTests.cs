using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPerimeter.Harness;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Infrastructure;

namespace AgentPerimeter.Gateway.FunctionalTests.Harness;

/// <summary>The harness host against a real gateway and a real SDK MCP server, with a scripted model.</summary>
public class HarnessSessionTests
{
    private static async Task<(StopResult Result, RecordingChatClient Model)> RunAsync(HarnessSetup setup, HarnessOptions options)
    {
        var model = new RecordingChatClient(new ScriptedChatClient(options.ScriptFile!));
        var result = await HarnessApp.RunSessionAsync(options, null, CancellationToken.None, model);
        return (result, model);
    }

    [Fact]
    public async Task ADeniedCall_TheModelIsToldTheRefusal_AndTheHarnessDoesNotRetry()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(
            ("Let me deploy.", [("deploy", new { env = "production" })]),
            ("The perimeter refused the deployment; I stop here.", []));

        var (result, model) = await RunAsync(setup, setup.Options("build", script));

        Assert.Equal("completed", result.Reason);
        var refusal = Assert.Single(model.ToolResults);
        Assert.Contains("policy_denied", refusal);
        Assert.Contains("refused", refusal);
        Assert.Equal(0, setup.CallsOf("deploy"));
        // One attempt, one refusal on record: never retried.
        Assert.Single(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.GetProperty("target").GetString() == "deploy");
        var outcome = Assert.Single(setup.Journal(result.SessionId), e => (string?)e["type"] == "tool_outcome");
        Assert.Equal("denied", (string?)outcome["outcome"]);
        Assert.Equal(1, (int?)outcome["attempts"]);
    }

    [Fact]
    public async Task ARateLimitedCall_WaitsTheGivenDelay_ThenSucceeds()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(
            ("Two searches.", [("search_docs", new { text = "one" }), ("search_docs", new { text = "two" })]),
            ("Both searches done.", []));
        var clock = Stopwatch.StartNew();

        var (result, model) = await RunAsync(setup, setup.Options("limited", script));

        Assert.Equal("completed", result.Reason);
        Assert.Equal(2, setup.CallsOf("search_docs"));
        Assert.All(model.ToolResults, r => Assert.Contains("search_docs ran", r));
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1), "the second call did not wait for the limit");
        Assert.Contains(setup.Gateway.AuditRecords(), r => r.GetProperty("code").GetString() == "rate_limited");
        var second = setup.Journal(result.SessionId).Last(e => (string?)e["type"] == "tool_outcome");
        Assert.Equal("ok", (string?)second["outcome"]);
        Assert.True((int?)second["attempts"] >= 2);
    }

    [Fact]
    public async Task AnApprovalGatedCall_PausesTheSession_AndAnApprovalLetsItRunOnce()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(
            ("Deploying to staging.", [("deploy", new { env = "staging" })]),
            ("Deployed.", []));
        var run = RunAsync(setup, setup.Options("production", script));

        var approval = await WaitForPendingApprovalAsync(setup);
        Assert.Equal(0, setup.CallsOf("deploy")); // held while pending
        Assert.Equal("tools/call deploy", approval.GetProperty("what").GetString());
        Assert.Equal("{\"env\":\"staging\"}", approval.GetProperty("arguments").GetString());
        var cli = await CliRunner.RunAsync(["approvals", "approve", approval.GetProperty("id").GetString()!, "--admin", setup.Gateway.AdminUri.ToString()]);
        Assert.Equal(0, cli.Exit);
        Assert.Contains("approved:", cli.Output);

        var (result, model) = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("completed", result.Reason);
        Assert.Equal(1, setup.CallsOf("deploy"));
        Assert.Contains("deploy ran", Assert.Single(model.ToolResults));
        var journal = setup.Journal(result.SessionId);
        Assert.Contains(journal, e => (string?)e["type"] == "approval_pending" && (string?)e["approval_id"] == approval.GetProperty("id").GetString());
        var records = setup.Gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.GetProperty("target").GetString() == "deploy").ToList();
        Assert.Equal(["approval_required", "allowed"], records.Select(r => r.GetProperty("code").GetString()));
        Assert.All(records, r => Assert.Equal(approval.GetProperty("id").GetString(), r.GetProperty("approval_id").GetString()));
    }

    [Fact]
    public async Task WithASessionTokenFromTheOperator_TheHarnessNeedsNoAdminApi_EvenToWaitForAnApproval()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var token = await setup.Gateway.TokenAsync("release-bot", "production");
        var script = setup.Script(("Deploying.", [("deploy", new { env = "staging" })]), ("Deployed.", []));
        using var nowhere = new ClosedPort();
        var options = setup.Options("ignored", script) with
        {
            SessionToken = token,
            WorkType = null,
            Admin = new Uri(nowhere.Url + "/"), // nothing listens there
        };
        var run = RunAsync(setup, options);

        var approval = await WaitForPendingApprovalAsync(setup);
        Assert.Equal("release-bot", approval.GetProperty("agent").GetString());
        (await setup.Gateway.Admin.PostAsync($"admin/approvals/{approval.GetProperty("id").GetString()}/approve", null)).EnsureSuccessStatusCode();

        var (result, _) = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("completed", result.Reason);
        Assert.Equal(approval.GetProperty("session").GetString(), result.SessionId);
        Assert.Equal(1, setup.CallsOf("deploy"));
        // The harness asked about its approval on the agent listener, with its own token: audited.
        Assert.Contains(setup.Gateway.AuditRecords(), r => r.GetProperty("route").GetString() == "perimeter-approvals"
            && r.GetProperty("code").GetString() == "approval_status" && r.GetProperty("session").GetString() == result.SessionId);
    }

    [Fact]
    public async Task ADeniedApproval_TheModelIsTold_AndTheCallIsNeverMade()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(
            ("Deploying to production.", [("deploy", new { env = "production" })]),
            ("The operator said no.", []));
        var run = RunAsync(setup, setup.Options("production", script));

        var approval = await WaitForPendingApprovalAsync(setup);
        var cli = await CliRunner.RunAsync(["approvals", "deny", approval.GetProperty("id").GetString()!, "--admin", setup.Gateway.AdminUri.ToString()]);
        Assert.Equal(0, cli.Exit);

        var (result, model) = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("completed", result.Reason);
        Assert.Equal(0, setup.CallsOf("deploy"));
        Assert.Contains("operator denied", Assert.Single(model.ToolResults));
        Assert.Equal("denied", (string?)setup.Journal(result.SessionId).Single(e => (string?)e["type"] == "tool_outcome")["outcome"]);
    }

    public static TheoryData<string, string> BudgetCases => new()
    {
        { "max_turns", "search" },
        { "max_input_tokens", "search" },
        { "max_output_tokens", "search" },
        { "max_wall_clock", "slow" },
        { "max_consecutive_errors", "denied" },
    };

    [Theory]
    [MemberData(nameof(BudgetCases))]
    public async Task EachBudget_StopsTheSession_WithItsTypedReason(string reason, string kind)
    {
        await using var setup = await HarnessSetup.StartAsync();
        (string, (string, object)[]) Turn(int i) => kind switch
        {
            "slow" => ($"Slow job {i}.", [("slow_job", new { steps = 4, path = "/workspace/x" })]),
            "denied" => ($"Deploy attempt {i}.", [("deploy", new { env = "production" })]),
            _ => ($"Search {i}.", [("search_docs", new { text = $"query {i}" })]),
        };
        var script = setup.Script([.. Enumerable.Range(1, 10).Select(Turn)]);
        var budgets = reason switch
        {
            "max_turns" => new Budgets { MaxTurns = 3 },
            "max_input_tokens" => new Budgets { MaxInputTokens = 40 },
            "max_output_tokens" => new Budgets { MaxOutputTokens = 12 },
            "max_wall_clock" => new Budgets { MaxWallClock = TimeSpan.FromSeconds(1) },
            _ => new Budgets { MaxConsecutiveErrors = 2 },
        };

        var (result, _) = await RunAsync(setup, setup.Options("build", script, budgets));

        Assert.Equal(reason, result.Reason);
        var stop = setup.Journal(result.SessionId).Last();
        Assert.Equal("stop", (string?)stop["type"]);
        Assert.Equal(reason, (string?)stop["reason"]);
        Assert.False(string.IsNullOrEmpty((string?)stop["detail"]));
        if (reason == "max_turns")
            Assert.Equal(3, result.Turns);
    }

    [Fact]
    public async Task EveryStep_IsJournaled_AndTracedAsGenAiSpans()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(("Searching.", [("search_docs", new { text = "deploy" })]), ("Found it.", []));

        var (result, _) = await RunAsync(setup, setup.Options("build", script));

        Assert.Equal("completed", result.Reason);
        var types = setup.Journal(result.SessionId).Select(e => (string?)e["type"]).ToList();
        Assert.Equal(["session", "model_turn", "tool_intent", "tool_outcome", "model_turn", "stop"], types);
        var intent = setup.Journal(result.SessionId).Single(e => (string?)e["type"] == "tool_intent");
        Assert.Equal($"{result.SessionId}/1/call_1_1", (string?)intent["idempotency_key"]);
        var call = Assert.Single(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.GetProperty("method").GetString() == "tools/call");
        Assert.Equal($"{result.SessionId}/1/call_1_1", call.GetProperty("idempotency_key").GetString());
        Assert.Equal(result.SessionId, call.GetProperty("session").GetString());

        var spans = File.ReadAllLines(Path.Combine(setup.Journals, "spans.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var tool = Assert.Single(spans, s => s.GetProperty("name").GetString() == "execute_tool search_docs");
        Assert.Equal("execute_tool", tool.GetProperty("attributes").GetProperty("gen_ai.operation.name").GetString());
        Assert.Equal("call_1_1", tool.GetProperty("attributes").GetProperty("gen_ai.tool.call.id").GetString());
        Assert.Equal("allow", tool.GetProperty("attributes").GetProperty("agentperimeter.decision").GetString());
        Assert.Equal(2, spans.Count(s => s.GetProperty("name").GetString() == "chat scripted"));
        var agent = Assert.Single(spans, s => s.GetProperty("name").GetString() == "invoke_agent harness-test");
        Assert.Equal(result.SessionId, agent.GetProperty("attributes").GetProperty("gen_ai.conversation.id").GetString());
        Assert.All(spans.Where(s => s.GetProperty("name").GetString() != agent.GetProperty("name").GetString()),
            s => Assert.Equal(agent.GetProperty("span_id").GetString(), s.GetProperty("parent_span_id").GetString()));
    }

    [Fact]
    public async Task ALocalTool_RunsOutsideThePerimeter_AndIsReportedAndCountedAsUngoverned()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(
            ("What time is it?", [("current_time", new { })]),
            ("Now the docs.", [("search_docs", new { text = "time" })]),
            ("Done.", []));
        var options = setup.Options("build", script) with { LocalTools = new HashSet<string> { "current_time" } };

        var (result, model) = await RunAsync(setup, options);

        Assert.Equal("completed", result.Reason);
        var local = setup.Journal(result.SessionId).First(e => (string?)e["type"] == "tool_outcome");
        Assert.Equal("local", (string?)local["code"]);
        Assert.True(DateTimeOffset.TryParse((string?)local["text"], out _));
        var external = Assert.Single(setup.Gateway.AuditRecords(), r => r.GetProperty("kind").GetString() == "external");
        Assert.False(external.GetProperty("governed").GetBoolean());
        Assert.Equal("external", external.GetProperty("decision").GetString());
        Assert.Equal("current_time", external.GetProperty("mcp").GetProperty("target").GetString());
        Assert.Equal("local", external.GetProperty("mcp").GetProperty("direction").GetString());
        Assert.Equal(result.SessionId, external.GetProperty("session").GetString());
        var metrics = await setup.Gateway.MetricsAsync();
        Assert.Contains("agentperimeter_actions_total{work_type=\"build\",route=\"external\",kind=\"external\",decision=\"external\",governed=\"false\"} 1", metrics);
        Assert.Equal(0, setup.CallsOf("current_time")); // never reached the MCP server
    }

    [Fact]
    public async Task AReportOfAnExternalAction_NeedsASessionToken_AndAToolName()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var token = await setup.Gateway.TokenAsync("harness-test", "build");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized,
            (await setup.Gateway.SendAsync(HttpMethod.Post, "/.perimeter/actions/external", null, JsonContent.Create(new { tool = "x" }))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest,
            (await setup.Gateway.SendAsync(HttpMethod.Post, "/.perimeter/actions/external", token, new StringContent("{not json"))).StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Accepted,
            (await setup.Gateway.SendAsync(HttpMethod.Post, "/.perimeter/actions/external", token, JsonContent.Create(new { tool = "shell", arguments_hash = "ab", outcome = "error" }))).StatusCode);
        var record = Assert.Single(setup.Gateway.AuditRecords(), r => r.GetProperty("kind").GetString() == "external");
        Assert.Equal("reported outcome: error", record.GetProperty("exception").GetString());
    }

    internal static async Task<JsonElement> WaitForPendingApprovalAsync(HarnessSetup setup)
    {
        JsonElement pending = default;
        await Eventually.UntilAsync(async () =>
        {
            var all = JsonDocument.Parse(await setup.Gateway.Admin.GetStringAsync("admin/approvals")).RootElement;
            if (all.EnumerateArray().FirstOrDefault(a => a.GetProperty("status").GetString() == "pending") is not { ValueKind: JsonValueKind.Object } found)
                return false;
            pending = found.Clone();
            return true;
        }, TimeSpan.FromSeconds(30), "an approval became pending");
        return pending;
    }
}
