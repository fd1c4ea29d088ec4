using System.Net;
using System.Security.Cryptography.X509Certificates;
using AgentPerimeter.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Gateway.FunctionalTests.Egress;

/// <summary>
/// A host marked <c>Inspect</c>: the gateway terminates the sandbox's TLS with its own CA (exported through
/// the admin API), injects the API key bound to the rule so the sandbox never holds it, checks the rule's
/// paths per request, validates the upstream's certificate, and masks the key when the upstream echoes it.
/// </summary>
public sealed class EgressInspectionTests
{
    [Fact]
    public async Task InspectedHost_GetsTheInjectedSecret_TheSandboxSeesItMasked_AndOtherPathsAreRefused()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-inspect-").FullName;
        var upstreamCa = TestCertificates.CreateAuthority("vendor CA");
        var (leaf, _) = TestCertificates.Issue(upstreamCa, "localhost", server: true, dnsNames: ["localhost"]);
        var upstreamCaFile = TestCertificates.WritePem(dir, "vendor-ca", upstreamCa).Certificate;
        var received = new List<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var cert = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pfx), null);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(cert)));
        await using var vendor = builder.Build();
        vendor.MapGet("/echo/{**rest}", (HttpContext ctx) =>
        {
            var key = ctx.Request.Headers["X-Api-Key"].ToString();
            lock (received)
                received.Add(key);
            return Results.Json(new { received = key }); // a careless API that echoes the credential
        });
        await vendor.StartAsync();
        var port = new Uri(vendor.Urls.First()).Port;

        var secret = TestSecrets.New("vendor");
        var variable = $"PERIMETER_TEST_VENDOR_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, secret);
        await using var upstream = await TestUpstream.StartAsync();
        var policy = $$"""
            { "Perimeter": {
                "Secrets": { "vendor-key": { "Source": { "Kind": "env", "Name": "{{variable}}" },
                                             "Bindings": [ { "Route": "egress:build-vendor", "Inject": "header", "Name": "X-Api-Key" } ] } },
                "WorkTypes": { "build": {
                  "Secrets": [ "vendor-key" ],
                  "Rules": [ { "Id": "build-read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] } ],
                  "Egress": { "Rules": [ { "Id": "build-vendor", "Hosts": [ "localhost" ], "Ports": [ {{port}} ], "Inspect": true,
                                           "Methods": [ "GET" ], "Paths": [ "/echo/**" ], "AllowCidrs": [ "127.0.0.0/8" ] } ] } } } } }
            """;
        await using var gw = await TestGateway.StartAsync(upstream.Url, policy,
            extraArgs: ["--Gateway:Listeners:Egress=http://127.0.0.1:0", $"--Gateway:Egress:UpstreamCaFile={upstreamCaFile}"]);
        var token = await gw.TokenAsync("ci-bot", "build");
        var egress = gw.App.Services.GetRequiredService<AgentPerimeter.Gateway.Hosting.PerimeterListeners>().EgressUri!;
        var proxy = $"http://ci-bot:{token}@127.0.0.1:{egress.Port}";

        // The sandbox trusts the gateway's CA (what 'perimeter ca export' prints), not the vendor's.
        var gatewayCa = Path.Combine(dir, "gateway-ca.pem");
        File.WriteAllText(gatewayCa, await gw.Admin.GetStringAsync("admin/egress/ca"));
        Assert.Contains("BEGIN CERTIFICATE", File.ReadAllText(gatewayCa));
        Assert.DoesNotContain("PRIVATE KEY", File.ReadAllText(gatewayCa));

        using var allowed = ChildProcess.StartExecutable("curl", ["-sS", "--cacert", gatewayCa, "-x", proxy, "-H", "X-Api-Key: agent-guess", $"https://localhost:{port}/echo/1"]);
        Assert.True(await allowed.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, allowed.Output);
        // The upstream got the real key — injected by the gateway, the agent's own value removed ...
        Assert.Equal(secret, Assert.Single(received));
        // ... and the sandbox saw the echo masked, never the key.
        Assert.Contains("[REDACTED]", allowed.Output);
        Assert.DoesNotContain(secret, allowed.Output);

        using var refused = ChildProcess.StartExecutable("curl", ["-sS", "-i", "--cacert", gatewayCa, "-x", proxy, $"https://localhost:{port}/admin/keys"]);
        await refused.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("403", refused.Output);
        Assert.Contains("egress_denied", refused.Output);
        Assert.Single(received);

        await Eventually.UntilAsync(() => gw.AuditRecords().Count(r => r.GetProperty("kind").GetString() == "egress") >= 2,
            TimeSpan.FromSeconds(10), "both tunnels were recorded");
        var tunnels = gw.AuditRecords().Where(r => r.GetProperty("kind").GetString() == "egress").ToList();
        Assert.Contains(tunnels, r => r.GetProperty("secrets").EnumerateArray().Any(s => s.GetString() == "vendor-key")
            && r.GetProperty("egress").GetProperty("inspected_requests").GetInt32() == 1);
        Assert.Contains(tunnels, r => r.GetProperty("egress").TryGetProperty("refused_requests", out var n) && n.GetInt32() == 1);
        Assert.DoesNotContain(secret, File.ReadAllText(gw.AuditPath));
    }
}
