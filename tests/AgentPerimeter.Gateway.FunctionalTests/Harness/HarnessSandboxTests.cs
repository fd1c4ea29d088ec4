using AgentPerimeter.Harness;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Harness;

/// <summary>
/// <c>--sandbox</c>: the model's shell commands run in a sandbox whose only way out is the gateway's
/// egress proxy, so what they reach is decided by the work type's egress rules and recorded as governed
/// egress actions — not reported as ungoverned local actions.
/// </summary>
public sealed class HarnessSandboxTests
{
    [Fact]
    public async Task RunCommand_InTheSandbox_ReachesOnlyWhatTheWorkTypeAllows_AndIsGovernedEgress()
    {
        await using var destination = await TestUpstream.StartAsync();
        var port = new Uri(destination.Url).Port;
        var dir = Directory.CreateTempSubdirectory("perimeter-harness-sandbox-").FullName;
        var socket = Path.Combine(dir, "egress.sock");
        var policy = HarnessSetup.Policy.Replace(
            "\"build\": { \"Rules\": [",
            $"\"build\": {{ \"Egress\": {{ \"Rules\": [ {{ \"Id\": \"build-artifacts\", \"Hosts\": [ \"localhost\" ], \"Ports\": [ {port} ], \"AllowCidrs\": [ \"127.0.0.0/8\" ] }} ] }}, \"Rules\": [");
        await using var setup = await HarnessSetup.StartAsync(policy, $"--Gateway:Egress:UnixSocket={socket}");
        var script = setup.Script(
            ("Fetch the artifact.", [("run_command", new { command = $"curl -sS http://localhost:{port}/api/artifact" })]),
            ("And the internet.", [("run_command", new { command = "curl -s -o /dev/null -w 'status=%{http_code}' http://example.com/" })]),
            ("Done.", []));
        var options = setup.Options("build", script) with
        {
            SandboxEgressSocket = socket,
            PerimeterCli = ChildProcess.ProductDll("AgentPerimeter.Cli", "perimeter"),
        };

        var model = new RecordingChatClient(new ScriptedChatClient(options.ScriptFile!));
        var result = await HarnessApp.RunSessionAsync(options, null, CancellationToken.None, model);

        Assert.Equal("completed", result.Reason);
        var results = model.ToolResults.ToList();
        Assert.Contains(results, r => r.Contains("exit 0") && r.Contains("\"upstream\":\"test\""));
        Assert.Contains(results, r => r.Contains("status=403"));
        Assert.Single(destination.Received);

        var egress = setup.Gateway.AuditRecords().Where(r => r.GetProperty("kind").GetString() == "egress").ToList();
        var allowed = Assert.Single(egress, r => r.GetProperty("decision").GetString() == "allow");
        Assert.Equal("harness-test", allowed.GetProperty("agent").GetString());
        Assert.Equal(result.SessionId, allowed.GetProperty("session").GetString());
        Assert.True(allowed.GetProperty("governed").GetBoolean());
        Assert.Contains(egress, r => r.GetProperty("code").GetString() == "egress_denied");
        // Not an ungoverned local action: its effects went through the perimeter.
        Assert.DoesNotContain(setup.Gateway.AuditRecords(), r => r.GetProperty("kind").GetString() == "external");
    }
}
