using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Testing;
using AgentPerimeter.Protocol.Audit;

namespace AgentPerimeter.Gateway.FunctionalTests.EndToEnd;

/// <summary>The gateway, the CLI and the demo as real child processes, the way operators run them.</summary>
public class ProcessTests
{
    [Fact]
    public async Task Gateway_WithInvalidPolicy_ExitsNonZero_LoggingEveryError()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-e2e-").FullName;
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1",
            TestPolicies.Default.Replace("\"GET\", \"HEAD\"", "\"GETT\"").Replace("\"/api/builds\"", "\"api/builds\""));

        using var gateway = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"),
            args.Where(a => a != "--Gateway:Logging:Console=false"));
        var exit = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exit);
        Assert.Contains("'GETT' is not an HTTP method", gateway.Output);
        Assert.Contains("must start with '/'", gateway.Output);
        Assert.Contains("\"ErrorCount\":2", gateway.Output);
    }

    [Fact]
    public async Task Gateway_CliToken_AndAgentRequest_AcrossProcesses()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-e2e-").FullName;
        var args = TestGateway.PrepareConfig(dir, upstream.Url).Where(a => a != "--Gateway:Logging:Console=false");

        using var gateway = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"), args);
        await gateway.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
        var match = Regex.Match(gateway.Output, "\"AgentUri\":\"(?<agent>[^\"]+)\",\"AdminUri\":\"(?<admin>[^\"]+)\"");
        Assert.True(match.Success, gateway.Output);

        using var cli = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Cli", "perimeter"),
            ["token", "--work-type", "build", "--agent", "e2e-bot", "--admin", match.Groups["admin"].Value]);
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var token = cli.Output.Trim();
        Assert.Equal(3, token.Split('.').Length);

        using var http = new HttpClient { BaseAddress = new Uri(match.Groups["agent"].Value) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/repos")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.DeleteAsync("/api/repos")).StatusCode);
        Assert.Single(upstream.Received);

        var audit = AuditVerifier.Verify(Path.Combine(dir, "data", "audit.jsonl"));
        Assert.True(audit.IsIntact);
        Assert.Equal(4, audit.Records); // the token minted (operator), the GET's intent and outcome, the refused DELETE
        Assert.DoesNotContain(token, gateway.Output);
        TestSecrets.AssertNoneIn(Path.Combine(dir, "data"));
    }

    [Fact]
    public async Task Demo_RunsEndToEnd_OnEmbeddedDefaults()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-demo-").FullName;
        // No Anthropic key, whatever the machine's environment holds: the scripted model.
        using var demo = ChildProcess.StartExecutable("dotnet", [ChildProcess.ProductDll("AgentPerimeter.Cli", "perimeter"),
            "demo", "--exit", "--agent-port", "0", "--admin-port", "0", "--upstream-port", "0", "--egress-port", "0", "--data-dir", Path.Combine(dir, "data")], dir,
            [("ANTHROPIC_API_KEY", "")]);

        var exit = await demo.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, demo.Output);
        Assert.Matches(@"exploration\s+GET /api/repos\s+200\s+allow\s+explore-read-repos", demo.Output);
        Assert.Matches(@"exploration\s+POST /api/builds\s+403\s+deny\s+policy_denied", demo.Output);
        Assert.Matches(@"sensitive-data\s+GET /api/exports/q3-2026\s+200\s+would_deny", demo.Output);
        Assert.Matches(@"GET /api/repos/\.\.%2Fadmin%2Fwipe\s+400\s+bad_request", demo.Output);
        Assert.Matches(@"MCP search_docs\(query=deploy\)\s+ok\s+allow\s+explore-mcp-docs", demo.Output);
        Assert.Matches(@"MCP deploy\(.*ok\s+deny\s+policy_denied", demo.Output);
        Assert.Matches(@"MCP run_build\(repo=infra\)\s+ok\s+deny\s+build-mcp-run\s+.*\[argument_not_allowed\]", demo.Output);
        Assert.Matches(@"sensitive-data\s+GET /api/customers/42\s+401\s+unauthenticated\s+session_revoked", demo.Output);
        // A whole harness session with the scripted model: allowed, denied and approval-gated steps.
        Assert.Matches(@"tool search_docs\s+→ ok", demo.Output);
        Assert.Matches(@"tool run_build\s+→ denied\s+policy_denied", demo.Output);
        Assert.Matches(@"harness paused: call_3_1 waits for approval apr_[0-9a-f]{32}", demo.Output);
        Assert.Matches(@"operator: perimeter approvals approve apr_[0-9a-f]{32}", demo.Output);
        Assert.Matches(@"tool deploy\s+→ ok\s+deploying payments-service to staging", demo.Output);
        Assert.Matches(@"session ses_[0-9a-f]{32} stopped: completed \(4 turns", demo.Output);
        Assert.Matches(@"governed-action percentage: \d+\.\d% \(\d+ of \d+ actions", demo.Output);
        Assert.Contains("audit chain: intact", demo.Output);
        Assert.True(File.Exists(Path.Combine(dir, "data", "signing-key.pem")), "a local signing key is created on first run");
        // The demo injects the shipped demo key and its upstream echoes it: the agent saw it masked,
        // and neither the audit log nor the gateway log holds it.
        Assert.Contains("\"api_key\":\"[REDACTED]\"", demo.Output);
        Assert.DoesNotContain(TestSecrets.Demo, demo.Output);
        TestSecrets.AssertNoneIn(Path.Combine(dir, "data"));
    }

    [Fact]
    public async Task Demo_WithAnAnthropicKey_DrivesClaude_ThroughTheSamePerimeter()
    {
        // A stand-in for the Messages API: search the docs, deploy (held for the operator), done.
        using var api = WireMock.Server.WireMockServer.Start();
        string Message(string id, string stop, params object[] content) => System.Text.Json.JsonSerializer.Serialize(new
        {
            id, type = "message", role = "assistant", model = "claude-sonnet-4-5", content, stop_reason = stop, stop_sequence = (string?)null,
            usage = new { input_tokens = 100, output_tokens = 20 },
        });
        var request = WireMock.RequestBuilders.Request.Create().WithPath("/v1/messages").UsingPost();
        WireMock.ResponseBuilders.IResponseBuilder Json(string body) => WireMock.ResponseBuilders.Response.Create().WithHeader("Content-Type", "application/json").WithBody(body);
        api.Given(request).InScenario("demo").WillSetStateTo("searched")
            .RespondWith(Json(Message("msg_1", "tool_use", new { type = "tool_use", id = "toolu_1", name = "search_docs", input = new { query = "deploy" } })));
        api.Given(request).InScenario("demo").WhenStateIs("searched").WillSetStateTo("deployed")
            .RespondWith(Json(Message("msg_2", "tool_use", new { type = "tool_use", id = "toolu_2", name = "deploy", input = new { repo = "payments-service", env = "staging" } })));
        api.Given(request).InScenario("demo").WhenStateIs("deployed")
            .RespondWith(Json(Message("msg_3", "end_turn", new { type = "text", text = "payments-service is rolling out to staging." })));

        var dir = Directory.CreateTempSubdirectory("perimeter-demo-").FullName;
        using var demo = ChildProcess.StartExecutable("dotnet", [ChildProcess.ProductDll("AgentPerimeter.Cli", "perimeter"),
            "demo", "--exit", "--agent-port", "0", "--admin-port", "0", "--upstream-port", "0", "--egress-port", "0", "--data-dir", Path.Combine(dir, "data")], dir,
            [("ANTHROPIC_API_KEY", "sk-ant-demo-test"), ("ANTHROPIC_BASE_URL", api.Url!)]);
        var exit = await demo.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(exit == 0, demo.Output);
        Assert.Contains("Harness session (Claude claude-sonnet-4-5", demo.Output);
        Assert.Matches(@"operator: perimeter approvals approve apr_[0-9a-f]{32}", demo.Output);
        Assert.Matches(@"tool deploy\s+→ ok\s+deploying payments-service to staging", demo.Output);
        Assert.Matches(@"stopped: completed \(3 turns", demo.Output);
        Assert.Equal(3, api.LogEntries.Count());
        Assert.DoesNotContain("sk-ant-demo-test", demo.Output);
        TestSecrets.AssertNoneIn(Path.Combine(dir, "data"));
    }
}
