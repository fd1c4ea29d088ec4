using System.Text.RegularExpressions;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Metrics;

/// <summary>
/// The shipped alerting rules (<c>dashboards/alerts.yml</c>): valid, passing their promtool unit tests
/// on synthetic series, and reading only series a freshly started gateway already exports — at zero,
/// so an alert's first event is visible to <c>increase()</c>.
/// </summary>
public sealed class AlertRulesTests
{
    private static string Dashboards => Path.Combine(TestPaths.RepoRoot(), "dashboards");

    [Fact]
    public async Task TheRules_PassPromtoolsCheckAndTheirUnitTests()
    {
        using var check = ChildProcess.StartExecutable("promtool", ["check", "rules", "alerts.yml"], Dashboards);
        Assert.True(await check.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, check.Output);
        using var test = ChildProcess.StartExecutable("promtool", ["test", "rules", "alerts.test.yml"], Dashboards);
        Assert.True(await test.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, test.Output);
    }

    [Fact]
    public async Task EverySeriesTheRulesRead_ExistsAtZero_OnAFreshGateway()
    {
        var rules = await File.ReadAllTextAsync(Path.Combine(Dashboards, "alerts.yml"));
        var names = Regex.Matches(rules, @"agentperimeter_[a-z_]+").Select(m => m.Value).Distinct().ToList();
        Assert.True(names.Count >= 7, string.Join(", ", names));

        // A gateway with a declared tunnel (so the tunnel series exists) and no action yet.
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: TunnelArgs());
        var metrics = await gw.MetricsAsync();

        foreach (var name in names)
            Assert.Matches(new Regex($"^{name}(\\{{[^}}]*\\}})? 0$|^{name}(\\{{[^}}]*\\}})? 1$", RegexOptions.Multiline), metrics);
        // The headline's series are there for every work type and route its rules name, governed or not.
        Assert.Contains("agentperimeter_actions_total{work_type=\"exploration\",route=\"api\",kind=\"http\",decision=\"allow\",governed=\"false\"} 0", metrics);
        Assert.Contains("agentperimeter_policy_reloads_total{result=\"rejected\"} 0", metrics);
        Assert.Contains("agentperimeter_ready 1", metrics);
        Assert.Contains("agentperimeter_limit_store_up 1", metrics);
        Assert.Matches("agentperimeter_build_info\\{version=\"[^\"]+\",commit=\"[^\"]+\"\\} 1", metrics);
        Assert.Contains("process_cpu_seconds_total", metrics);
    }

    [Fact]
    public async Task WithAnEgressListener_EgressSeriesExistAtZero_ForEveryWorkType()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: ["--Gateway:Listeners:Egress=http://127.0.0.1:0"]);
        var metrics = await gw.MetricsAsync();

        foreach (var workType in new[] { "build", "exploration" })
            Assert.Contains($"agentperimeter_actions_total{{work_type=\"{workType}\",route=\"egress\",kind=\"egress\",decision=\"allow\",governed=\"false\"}} 0", metrics);
    }

    private static string[] TunnelArgs()
    {
        var credential = Path.Combine(Directory.CreateTempSubdirectory("perimeter-tunnel-cred-").FullName, "crm");
        File.WriteAllText(credential, "tunnel-credential-" + Guid.NewGuid().ToString("N"));
        return
        [
            "--Gateway:Listeners:Tunnel=http://127.0.0.1:0",
            "--Gateway:Tunnels:crm:Credential:Kind=file",
            $"--Gateway:Tunnels:crm:Credential:Path={credential}",
        ];
    }
}
