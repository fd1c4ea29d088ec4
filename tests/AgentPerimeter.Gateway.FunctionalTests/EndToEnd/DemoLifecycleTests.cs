using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.EndToEnd;

/// <summary>The demo as a person runs it more than once: stopped by SIGTERM like Ctrl+C, and run again on the same data directory after an agent was revoked.</summary>
public sealed class DemoLifecycleTests
{
    private static ChildProcess StartDemo(string dir, string dataDir, params string[] more) =>
        ChildProcess.StartExecutable("dotnet", [ChildProcess.ProductDll("AgentPerimeter.Cli", "perimeter"),
            "demo", "--agent-port", "0", "--admin-port", "0", "--upstream-port", "0", "--egress-port", "0", "--data-dir", dataDir, .. more], dir,
            [("ANTHROPIC_API_KEY", "")]);

    [Fact]
    public async Task Sigterm_StopsTheServingDemo_AndItsGateway_LikeCtrlC()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-demo-").FullName;
        using var demo = StartDemo(dir, Path.Combine(dir, "data"));
        await demo.WaitForOutputAsync("Serving. Press Ctrl+C to stop.", TimeSpan.FromSeconds(120));

        demo.Terminate();

        Assert.Equal(0, await demo.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task ASecondRun_OnTheSameDataDirectory_SaysSo_AndSurvivesAnEarlierRevocationOfItsAgent()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-demo-").FullName;
        var data = Path.Combine(dir, "data");
        using (var first = StartDemo(dir, data))
        {
            await first.WaitForOutputAsync("Serving. Press Ctrl+C to stop.", TimeSpan.FromSeconds(120));
            var admin = System.Text.RegularExpressions.Regex.Match(first.Output, @"admin listener\s+(?<url>http://\S+)").Groups["url"].Value;
            var (exit, _) = await Infrastructure.CliRunner.RunAsync(["sessions", "revoke", "--agent", "alice", "--admin", admin]);
            Assert.Equal(0, exit);
            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        using var second = StartDemo(dir, data, "--exit");
        var secondExit = await second.WaitForExitAsync(TimeSpan.FromSeconds(120));

        Assert.True(secondExit == 0, second.Output);
        Assert.Contains("reusing the data directory", second.Output);
        Assert.Matches(@"exploration\s+GET /api/repos\s+200\s+allow", second.Output);
    }
}
