using System.Net;
using System.Net.Sockets;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.EndToEnd;

/// <summary>
/// What an operator gets from a gateway that cannot start: a clear sentence and exit code 2 — never a
/// .NET stack trace — for a missing config directory, a JSON syntax error, a port already taken; and
/// <c>--help</c> prints usage and starts nothing.
/// </summary>
public sealed class StartupErrorTests
{
    private static async Task<(int Exit, string Output)> RunGatewayAsync(IEnumerable<string> args)
    {
        using var gateway = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"), args);
        var exit = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, gateway.Output);
    }

    private static string[] Args(string dir, params string[] more) =>
        [.. TestGateway.PrepareConfig(dir, "http://127.0.0.1:1").Where(a => a != "--Gateway:Logging:Console=false"), .. more];

    [Fact]
    public async Task AMissingConfigDirectory_IsExit2_NamingWhatIsMissing()
    {
        var missing = Path.Combine(Path.GetTempPath(), "perimeter-no-such-dir-" + Guid.NewGuid().ToString("N"));
        var (exit, output) = await RunGatewayAsync(["--config-dir", missing, "--Gateway:Listeners:Agent=http://127.0.0.1:0", "--Gateway:Listeners:Admin=http://127.0.0.1:0"]);

        Assert.Equal(2, exit);
        Assert.Contains("configuration file not found", output);
        Assert.Contains(missing, output);
        Assert.DoesNotContain("   at ", output); // no stack trace
    }

    [Fact]
    public async Task AJsonSyntaxError_IsExit2_WithFileLineAndColumn()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-syntax-").FullName;
        var args = Args(dir);
        var policy = Path.Combine(dir, "config", "perimeter.json");
        File.WriteAllText(policy, "{\n  \"Perimeter\": {\n    \"WorkTypes\": {}\n    \"Oops\": 1\n  }\n}\n"); // a missing comma on line 3

        var (exit, output) = await RunGatewayAsync(args);

        Assert.Equal(2, exit);
        Assert.Contains("perimeter.json", output);
        Assert.Matches("line 4, column \\d+: not valid JSON", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task APortAlreadyTaken_IsExit2_SayingWhichAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var dir = Directory.CreateTempSubdirectory("perimeter-port-").FullName;

        var (exit, output) = await RunGatewayAsync(Args(dir, $"--Gateway:Listeners:Agent=http://127.0.0.1:{port}"));

        Assert.Equal(2, exit);
        Assert.Contains($"127.0.0.1:{port}", output);
        Assert.Contains("a listener could not start", output);
    }

    [Fact]
    public async Task Help_PrintsUsage_AndStartsNothing()
    {
        var (exit, output) = await RunGatewayAsync(["--help", "--Gateway:Listeners:Agent=http://127.0.0.1:0"]);

        Assert.Equal(0, exit);
        Assert.Contains("--config-dir DIR", output);
        Assert.DoesNotContain("listening", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheDemoUpstreamsHelp_PrintsUsage_AndStartsNothing()
    {
        using var upstream = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.DemoUpstream", "AgentPerimeter.DemoUpstream"), ["--help", "--urls", "http://127.0.0.1:0"]);

        Assert.Equal(0, await upstream.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("usage: AgentPerimeter.DemoUpstream", upstream.Output);
        Assert.DoesNotContain("Now listening", upstream.Output);
    }
}
