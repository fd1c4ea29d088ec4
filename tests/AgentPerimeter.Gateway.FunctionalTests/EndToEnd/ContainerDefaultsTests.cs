using System.Net;
using System.Text.RegularExpressions;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.EndToEnd;

/// <summary>
/// The gateway image's defaults, run as the image runs them (no container engine runs here): the
/// Dockerfile's own environment and <c>deploy/container/config</c>. Without the operators' admin token
/// the gateway refuses to start (its admin listener is on all interfaces); with it, it starts, is ready,
/// and refuses every agent action; and an admin listener open to other hosts without a token is refused.
/// </summary>
public sealed class ContainerDefaultsTests
{
    /// <summary>The runtime stage's <c>ENV</c> block, with the image's paths mapped onto this machine.</summary>
    private static List<(string Name, string Value)> ImageEnvironment(string dataDir, string? tokenFile)
    {
        var dockerfile = File.ReadAllText(Path.Combine(TestPaths.RepoRoot(), "Dockerfile"));
        var block = Regex.Match(dockerfile, @"ENV PERIMETER_CONFIG_DIR=(?:.*\\\r?\n)*.*").Value;
        var env = Regex.Matches(block, @"([A-Za-z_]+)=(\S*)").Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Contains(env, e => e.Item1 == "Gateway__Admin__TokenFile");
        return [.. env.Select(e => e.Item1 switch
        {
            "PERIMETER_CONFIG_DIR" => (e.Item1, Path.Combine(TestPaths.RepoRoot(), "deploy", "container", "config")),
            "Gateway__DataDirectory" => (e.Item1, dataDir),
            // The image's ports, made free ones: the addresses (all interfaces) stay as shipped.
            "Gateway__Listeners__Agent" or "Gateway__Listeners__Admin" => (e.Item1, Regex.Replace(e.Item2, @":\d+$", ":0")),
            "Gateway__Admin__TokenFile" => (e.Item1, tokenFile ?? e.Item2),
            _ => e,
        }), ("Gateway__Logging__Console", "true")];
    }

    private static ChildProcess Start(IEnumerable<(string, string)> environment) =>
        ChildProcess.StartExecutable("dotnet", [ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway")], null, environment);

    [Fact]
    public async Task WithoutTheMountedAdminToken_TheImageDoesNotStart()
    {
        var data = Directory.CreateTempSubdirectory("perimeter-image-").FullName;
        using var gateway = Start(ImageEnvironment(data, tokenFile: null));

        Assert.Equal(2, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("/run/secrets/agentperimeter-admin-token", gateway.Output);
    }

    [Fact]
    public async Task WithTheToken_TheImageStarts_IsReady_AndRefusesEveryAction()
    {
        var data = Directory.CreateTempSubdirectory("perimeter-image-").FullName;
        var tokenFile = Path.Combine(data, "admin-token");
        File.WriteAllText(tokenFile, "operators-" + Guid.NewGuid().ToString("N"));
        using var gateway = Start(ImageEnvironment(data, tokenFile));
        await gateway.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
        var m = Regex.Match(gateway.Output, "\"AgentUri\":\"(?<agent>[^\"]+)\",\"AdminUri\":\"(?<admin>[^\"]+)\"");
        using var admin = new HttpClient { BaseAddress = new Uri(m.Groups["admin"].Value) };
        using var agent = new HttpClient { BaseAddress = new Uri(m.Groups["agent"].Value) };

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("admin/sessions")).StatusCode);
        var response = await agent.GetAsync("/anything");
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound, $"{response.StatusCode}");
        // No secret ships in the image's config.
        Assert.False(Directory.Exists(Path.Combine(TestPaths.RepoRoot(), "deploy", "container", "config", "secrets")));
    }

    [Fact]
    public async Task AnAdminListenerOpenToOtherHosts_WithoutAToken_IsRefused_UnlessExplicitlyAllowed()
    {
        var data = Directory.CreateTempSubdirectory("perimeter-image-").FullName;
        var environment = ImageEnvironment(data, tokenFile: null).Where(e => e.Name != "Gateway__Admin__TokenFile").ToList();
        using var refused = Start(environment);
        Assert.Equal(2, await refused.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("can be reached from other hosts", refused.Output);

        using var allowed = Start([.. environment, ("Gateway__Admin__AllowUnauthenticated", "true")]);
        await allowed.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
    }
}
