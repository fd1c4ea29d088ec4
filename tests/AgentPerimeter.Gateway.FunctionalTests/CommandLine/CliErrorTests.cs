using AgentPerimeter.Gateway.FunctionalTests.Infrastructure;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.CommandLine;

/// <summary>
/// The operator's CLI when something is off: a clear sentence and a distinct exit code (64 usage,
/// 69 not reachable or not the admin API, 77 refused), never a stack trace or a silently ignored flag.
/// </summary>
public sealed class CliErrorTests
{
    [Fact]
    public async Task AnUnknownFlag_IsAnError_NamingIt()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();

        var (exit, _, error) = await CliRunner.RunCapturingErrorsAsync(["tunnels", "--admn", gw.AdminUri.ToString()]);

        Assert.Equal(64, exit);
        Assert.Contains("unknown option --admn", error);
        Assert.Contains("--admin", error);
    }

    [Fact]
    public async Task PointingAdminAtTheAgentListener_SaysWhichListenerIsWhich()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();

        var (exit, _, error) = await CliRunner.RunCapturingErrorsAsync(["tools", "list", "--admin", gw.AgentUri.ToString()]);

        Assert.Equal(69, exit);
        Assert.Contains("is the gateway's agent listener", error);
        Assert.Contains("Gateway:Listeners:Admin", error);
    }

    [Fact]
    public async Task WithoutTheAdminToken_SaysAdminTokenRequired_NotUnreachable()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var tokenFile = Path.Combine(Directory.CreateTempSubdirectory("perimeter-admin-token-").FullName, "admin-token");
        File.WriteAllText(tokenFile, "admin-" + Guid.NewGuid().ToString("N"));
        await using var gw = await TestGateway.StartAsync(upstream.Url, extraArgs: [$"--Gateway:Admin:TokenFile={tokenFile}"]);

        var (exit, _, error) = await CliRunner.RunCapturingErrorsAsync(["sessions", "list", "--admin", gw.AdminUri.ToString()]);
        var (missingFileExit, _, missingFileError) = await CliRunner.RunCapturingErrorsAsync(
            ["sessions", "list", "--admin", gw.AdminUri.ToString(), "--admin-token-file", tokenFile + ".missing"]);

        Assert.Equal(77, exit);
        Assert.Contains("admin token required", error);
        Assert.DoesNotContain("Is the gateway running", error);
        Assert.Equal(64, missingFileExit);
        Assert.Contains("cannot read the admin token file", missingFileError);
    }

    [Fact]
    public async Task NoGatewayThere_IsExit69()
    {
        var (exit, _, error) = await CliRunner.RunCapturingErrorsAsync(["actions", "--admin", "http://127.0.0.1:1"]);

        Assert.Equal(69, exit);
        Assert.Contains("cannot reach the gateway's admin listener", error);
    }

    [Fact]
    public async Task RevokingAnIdThisGatewayNeverIssued_SaysSo_AndStillRevokes()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        await gw.TokenAsync("ci-bot", "build");

        var (exit, output, error) = await CliRunner.RunCapturingErrorsAsync(["sessions", "revoke", "ses_0000000000000000000000000000beef", "--admin", gw.AdminUri.ToString()]);
        var (agentExit, _, agentError) = await CliRunner.RunCapturingErrorsAsync(["sessions", "revoke", "--agent", "ci-bot", "--admin", gw.AdminUri.ToString()]);

        Assert.Equal(0, exit);
        Assert.Contains("revoked: session", output);
        Assert.Contains("never issued a token", error);
        Assert.Equal(0, agentExit);
        Assert.DoesNotContain("never issued", agentError);
    }
}
