using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using AgentPerimeter.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Gateway.FunctionalTests.Sandbox;

/// <summary>
/// <c>perimeter sandbox run</c> against the real gateway: the command runs in its own network namespace,
/// its only way out is the gateway's egress Unix socket, the token is minted through the admin API, and
/// every request it makes is an egress action in the gateway's audit log — allowed or refused.
/// </summary>
public sealed class SandboxThroughTheGatewayTests
{
    private static string CliDll => ChildProcess.ProductDll("AgentPerimeter.Cli", "perimeter");

    [Fact]
    public async Task CommandInTheSandbox_ReachesAnAllowedHttpsServerThroughTheGateway_ButNotDirectly_AndIsAudited()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-sandbox-gw-").FullName;
        var ca = TestCertificates.CreateAuthority("sandbox test CA");
        var (leaf, _) = TestCertificates.Issue(ca, "localhost", server: true, dnsNames: ["localhost"]);
        var caFile = TestCertificates.WritePem(dir, "ca", ca).Certificate;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var cert = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pfx), null);
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, l => l.UseHttps(cert)));
        await using var server = builder.Build();
        server.MapGet("/artifact", () => "artifact bytes");
        await server.StartAsync();
        var port = new Uri(server.Urls.First()).Port;

        await using var upstream = await TestUpstream.StartAsync();
        var socket = Path.Combine(dir, "egress.sock");
        var policy = $$"""
            { "Perimeter": { "WorkTypes": { "build": {
                "Rules": [ { "Id": "build-read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] } ],
                "Egress": { "Rules": [ { "Id": "build-artifacts", "Hosts": [ "localhost" ], "Ports": [ {{port}} ], "AllowCidrs": [ "127.0.0.0/8" ] } ] } } } } }
            """;
        await using var gw = await TestGateway.StartAsync(upstream.Url, policy, extraArgs: [$"--Gateway:Egress:UnixSocket={socket}"]);

        var script = $"""
            curl -sS --max-time 10 https://localhost:{port}/artifact; echo " allowed-exit=$?"
            curl -sS --max-time 10 https://example.com/ >/dev/null 2>&1; echo "refused-exit=$?"
            curl -sS --max-time 5 --noproxy '*' https://localhost:{port}/artifact >/dev/null 2>&1; echo "direct-exit=$?"
            """;
        using var run = ChildProcess.StartExecutable("dotnet",
            [CliDll, "sandbox", "run", "--agent", "ci-bot", "--work-type", "build", "--admin", gw.AdminUri.ToString(),
             "--egress-socket", socket, "--ca-file", caFile, "--", "sh", "-c", script]);
        Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(90)));

        Assert.Contains("artifact bytes allowed-exit=0", run.Output);
        Assert.DoesNotContain("refused-exit=0", run.Output);
        Assert.DoesNotContain("direct-exit=0", run.Output); // the namespace has no way out but the gateway

        await Eventually.UntilAsync(() => Egress(gw).Count(r => r.GetProperty("decision").GetString() != "unauthenticated") >= 2,
            TimeSpan.FromSeconds(10), "both egress actions were recorded");
        var decided = Egress(gw).Where(r => r.GetProperty("decision").GetString() != "unauthenticated").ToList();
        var allowed = Assert.Single(decided, r => r.GetProperty("decision").GetString() == "allow");
        Assert.Equal("localhost", allowed.GetProperty("egress").GetProperty("host").GetString());
        Assert.Equal("ci-bot", allowed.GetProperty("agent").GetString());
        Assert.Contains(decided, r => r.GetProperty("egress").GetProperty("host").GetString() == "example.com" && r.GetProperty("code").GetString() == "egress_denied");
        // The token the CLI minted reached the gateway only as proxy credentials: never the output, never the log.
        Assert.DoesNotContain("eyJ", run.Output);
    }

    private static List<JsonElement> Egress(TestGateway gw) =>
        gw.AuditRecords().Where(r => r.GetProperty("kind").GetString() == "egress").ToList();
}
