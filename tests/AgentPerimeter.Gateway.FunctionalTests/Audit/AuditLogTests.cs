using System.Net.Http.Json;
using System.Net;
using AgentPerimeter.Cli;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Testing;
using AgentPerimeter.Protocol.Audit;

namespace AgentPerimeter.Gateway.FunctionalTests.Audit;

public class AuditLogTests
{
    [Fact]
    public async Task ConcurrentActions_AreEachRecordedExactlyOnce_AndTheChainVerifies()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("ci-bot", "build");

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            gw.GetAsync(i % 3 == 0 ? "/api/forbidden" : $"/api/repos/r{i}", i % 7 == 0 ? null : token)));

        var ids = responses.Select(r => Assert.Single(r.Headers.GetValues("X-Perimeter-Action-Id"))).ToList();
        var records = gw.AuditRecords();
        Assert.Equal(200, records.Count);
        Assert.Equal(ids.Order(), records.Select(r => r.GetProperty("action_id").GetString()!).Order());
        // One chain: every record — the intents of the forwarded actions and the token's operator record too — in one sequence.
        var all = gw.AllAuditRecords();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(r => r.GetProperty("seq").GetInt64()));
        var verification = AuditVerifier.Verify(gw.AuditPath);
        Assert.True(verification.IsIntact, string.Join("\n", verification.Errors));
        Assert.Equal(all.Count, verification.Records);
    }

    [Fact]
    public async Task Restart_ContinuesTheChain()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-restart-").FullName;
        var args = TestGateway.PrepareConfig(dir, upstream.Url);
        for (int run = 0; run < 2; run++)
        {
            await using var app = AgentPerimeter.Gateway.Hosting.PerimeterApp.Build(args);
            await app.StartAsync();
            var listeners = app.Services.GetService(typeof(AgentPerimeter.Gateway.Hosting.PerimeterListeners)) as AgentPerimeter.Gateway.Hosting.PerimeterListeners;
            using var client = new HttpClient { BaseAddress = listeners!.AgentUri };
            await client.GetAsync("/api/repos");
            await client.GetAsync("/api/repos");
            await app.StopAsync();
        }
        var result = AuditVerifier.Verify(Path.Combine(dir, "data", "audit.jsonl"));
        Assert.True(result.IsIntact, string.Join("\n", result.Errors));
        Assert.Equal(4, result.Records);
    }

    [Fact]
    public async Task UnwritableAuditFile_MakesTheGatewayRefuseActions()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var blocker = Path.Combine(Path.GetTempPath(), $"perimeter-blocker-{Guid.NewGuid():N}");
        File.WriteAllText(blocker, "a file where the audit directory should be");
        try
        {
            await using var gw = await TestGateway.StartAsync(upstream.Url, extraArgs: [$"--Gateway:Audit:Path={blocker}/audit.jsonl"]);
            // The admin API hands out no token it cannot record, so this one is signed with the gateway's key.
            var token = Tokens.Create(Tokens.GatewayKey(gw), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256);

            var response = await gw.GetAsync("/api/repos", token);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("audit_unavailable", await response.Content.ReadAsStringAsync());
            Assert.Empty(upstream.Received);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gw.Admin.GetAsync("readyz")).StatusCode);
            Assert.Contains("decision=\"unavailable\",governed=\"false\"", await gw.MetricsAsync());
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public async Task AuditWriteFailure_AbortsTheAnswer_ThenRefusesFurtherActions()
    {
        await using var upstream = await TestUpstream.StartAsync();
        // /dev/full opens fine and fails every write (ENOSPC): a disk that fills up under the gateway.
        await using var gw = await TestGateway.StartAsync(upstream.Url, extraArgs: ["--Gateway:Audit:Path=/dev/full"]);
        // The admin API hands out no token it cannot record, so this one is signed with the gateway's key.
        var token = Tokens.Create(Tokens.GatewayKey(gw), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256);

        await Assert.ThrowsAsync<HttpRequestException>(() => gw.GetAsync("/api/forbidden", token));
        var refused = await gw.GetAsync("/api/repos", token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Empty(upstream.Received);
        Assert.Matches(@"(?m)^agentperimeter_audit_write_errors_total [1-9]", await gw.MetricsAsync());
        Assert.Contains("audit_unavailable", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AuditDown_TheAdminApiHandsOutNoTokenItCannotRecord()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gw = await TestGateway.StartAsync(upstream.Url, extraArgs: ["--Gateway:Audit:Path=/dev/full"]);
        using var response = await gw.Admin.PostAsJsonAsync("admin/sessions", new { agent = "ci-bot", workType = "build" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("audit_unavailable", body);
        Assert.DoesNotContain("token", body.Replace("session token", "", StringComparison.Ordinal));
    }
}
