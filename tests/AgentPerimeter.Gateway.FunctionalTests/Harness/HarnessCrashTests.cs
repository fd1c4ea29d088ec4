using System.Diagnostics;
using System.Text.RegularExpressions;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.FunctionalTests.Infrastructure;

namespace AgentPerimeter.Gateway.FunctionalTests.Harness;

/// <summary>The harness binary as a real process: killed mid-session, then resumed from its journal.</summary>
public class HarnessCrashTests
{
    private static ChildProcess Harness(HarnessSetup setup, IEnumerable<string> args, string? crashAfterCallOf = null,
        IEnumerable<(string, string)>? environment = null)
    {
        var info = new List<string>(args)
        {
            "--gateway", setup.Gateway.AgentUri.ToString(), "--admin", setup.Gateway.AdminUri.ToString(),
            "--journal-dir", setup.Journals, "--agent", "harness-test",
        };
        var dll = ChildProcess.ProductDll("AgentPerimeter.Harness", "agentperimeter-harness");
        return ChildProcess.StartWithEnvironment(dll, info,
            [.. environment ?? [], .. crashAfterCallOf is null ? Array.Empty<(string, string)>() : [("PERIMETER_HARNESS_CRASH_AFTER_CALL", crashAfterCallOf)]]);
    }

    [Fact]
    public async Task KilledAfterACallsIntent_ResumeCompletesTheSession_AndTheToolRanExactlyOnce()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(
            ("Deploying.", [("deploy", new { env = "staging" })]),
            ("Deployed, now checking the docs.", [("search_docs", new { text = "after deploy" })]),
            ("All done.", []));

        string sessionId;
        using (var first = Harness(setup, ["run", "--work-type", "ship", "--task", "deploy to staging", "--script", script], crashAfterCallOf: "deploy"))
        {
            Assert.Equal(137, await first.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            sessionId = Regex.Match(first.Output, @"Session (?<id>ses_[0-9a-f]{32}) started").Groups["id"].Value;
            Assert.False(string.IsNullOrEmpty(sessionId), first.Output);
        }
        Assert.Equal(1, setup.CallsOf("deploy")); // it happened...
        var journal = setup.Journal(sessionId);
        Assert.Contains(journal, e => (string?)e["type"] == "tool_intent" && (string?)e["tool"] == "deploy");
        Assert.DoesNotContain(journal, e => (string?)e["type"] == "tool_outcome"); // ...but the harness never learned its outcome

        using (var resumed = Harness(setup, ["resume", sessionId, "--script", script]))
        {
            Assert.Equal(0, await resumed.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains($"session {sessionId} stopped: completed", resumed.Output);
        }

        Assert.Equal(1, setup.CallsOf("deploy")); // asked again by idempotency key: replayed, not repeated
        Assert.Equal(1, setup.CallsOf("search_docs"));
        var deploys = setup.Gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.GetProperty("target").GetString() == "deploy").ToList();
        Assert.Equal(2, deploys.Count);
        Assert.False(deploys[0].TryGetProperty("replay", out _));
        Assert.True(deploys[1].GetProperty("replay").GetBoolean());
        Assert.Equal("idempotent_replay", deploys[1].GetProperty("code").GetString());
        Assert.All(deploys, d => Assert.Equal(sessionId, d.GetProperty("session").GetString())); // the resumed session is the same session
        var outcome = setup.Journal(sessionId).Single(e => (string?)e["type"] == "tool_outcome" && (string?)e["tool"] == "deploy");
        Assert.Equal("ok", (string?)outcome["outcome"]);
        Assert.Contains("deploy ran", (string?)outcome["text"]);
    }

    [Fact]
    public async Task APausedSession_ContinuesWithTheDecision_AfterTheHarnessItselfRestarts()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var script = setup.Script(("Deploying.", [("deploy", new { env = "staging" })]), ("Deployed.", []));

        string sessionId;
        using (var first = Harness(setup, ["run", "--work-type", "production", "--task", "deploy", "--script", script]))
        {
            var approval = await HarnessSessionTests.WaitForPendingApprovalAsync(setup);
            await first.WaitForOutputAsync("paused", TimeSpan.FromSeconds(30));
            sessionId = Regex.Match(first.Output, @"Session (?<id>ses_[0-9a-f]{32}) started").Groups["id"].Value;
            first.Kill(); // the harness dies while waiting for the human
            var cli = await CliRunner.RunAsync(["approvals", "approve", approval.GetProperty("id").GetString()!, "--admin", setup.Gateway.AdminUri.ToString()]);
            Assert.Equal(0, cli.Exit);
        }

        using var resumed = Harness(setup, ["resume", sessionId, "--script", script]);
        Assert.Equal(0, await resumed.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(1, setup.CallsOf("deploy"));
        Assert.Contains("stopped: completed", resumed.Output);
    }

    [Fact]
    public async Task Spans_AreExportedOverOtlp_WhenACollectorIsConfigured()
    {
        await using var setup = await HarnessSetup.StartAsync();
        using var collector = WireMock.Server.WireMockServer.Start();
        collector.Given(WireMock.RequestBuilders.Request.Create().WithPath("/v1/traces").UsingPost())
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(200));
        var script = setup.Script(("Searching.", [("search_docs", new { text = "otlp" })]), ("Done.", []));

        using (var run = Harness(setup, ["run", "--work-type", "build", "--task", "search", "--script", script], environment:
            [("OTEL_EXPORTER_OTLP_ENDPOINT", collector.Url!), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]))
        {
            Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        var exported = string.Concat(collector.LogEntries.Select(e => System.Text.Encoding.UTF8.GetString(e.RequestMessage!.BodyAsBytes ?? [])));
        Assert.Contains("execute_tool search_docs", exported);
        Assert.Contains("gen_ai.tool.call.id", exported);
        Assert.Contains("invoke_agent harness-test", exported);
        Assert.Contains("agentperimeter-harness", exported);
    }
}
