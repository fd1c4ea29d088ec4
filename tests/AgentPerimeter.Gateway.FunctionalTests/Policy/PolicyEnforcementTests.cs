using System.Net;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Policy;

public class PolicyEnforcementTests
{
    [Fact]
    public async Task AllowedRoute_IsForwarded_AndAuditedGoverned()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("ci-bot", "build");

        var response = await gw.GetAsync("/api/repos/payments", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(upstream.Received);
        Assert.Equal("/api/repos/payments", received.RawTarget);
        var record = gw.AuditFor(response);
        Assert.Equal("allow", record.GetProperty("decision").GetString());
        Assert.Equal("build-read", record.GetProperty("rule").GetString());
        Assert.Equal("ci-bot", record.GetProperty("agent").GetString());
        Assert.Equal("build", record.GetProperty("work_type").GetString());
        Assert.Equal("api", record.GetProperty("route").GetString());
        Assert.Equal(200, record.GetProperty("upstream_status").GetInt32());
        Assert.True(record.GetProperty("governed").GetBoolean());
        Assert.StartsWith("ses_", record.GetProperty("session").GetString());
    }

    [Fact]
    public async Task RouteNotInWorkType_Is403_AndAudited_UpstreamSeesNothing()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");

        var wrongPath = await gw.GetAsync("/api/repos/payments", token);
        var wrongRoute = await gw.GetAsync("/other/thing", token);
        var wrongMethod = await gw.SendAsync(HttpMethod.Delete, "/api/public/doc", token);

        foreach (var response in new[] { wrongPath, wrongRoute, wrongMethod })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Contains("\"error\":\"policy_denied\"", body);
            Assert.Contains("\"work_type\":\"exploration\"", body);
            var record = gw.AuditFor(response);
            Assert.Equal("deny", record.GetProperty("decision").GetString());
            Assert.Equal(403, record.GetProperty("status").GetInt32());
            Assert.True(record.GetProperty("governed").GetBoolean());
        }
        Assert.Empty(upstream.Received);
        var metrics = await gw.MetricsAsync();
        Assert.Contains("agentperimeter_denials_total{work_type=\"exploration\",route=\"api\",code=\"policy_denied\"} 2", metrics);
        Assert.Contains("agentperimeter_denials_total{work_type=\"exploration\",route=\"other\",code=\"policy_denied\"} 1", metrics);
    }

    [Fact]
    public async Task ReportOnlyRule_IsForwarded_AuditedWouldDeny_NotGoverned()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("ci-bot", "build");

        var response = await gw.GetAsync("/api/shadow/export", token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(upstream.Received);
        var record = gw.AuditFor(response);
        Assert.Equal("would_deny", record.GetProperty("decision").GetString());
        Assert.Equal("build-shadow", record.GetProperty("rule").GetString());
        Assert.False(record.GetProperty("governed").GetBoolean());
        Assert.False(record.GetProperty("governed_by").GetProperty("policy").GetBoolean());
        Assert.Contains("Would deny", gw.LogText());
        var metrics = await gw.MetricsAsync();
        Assert.Contains("agentperimeter_actions_total{work_type=\"build\",route=\"api\",kind=\"http\",decision=\"would_deny\",governed=\"false\"} 1", metrics);
    }

    [Fact]
    public async Task UnknownRoute_Is404_AndAudited()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("ci-bot", "build");

        var response = await gw.GetAsync("/nowhere/at/all", token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("route_not_found", await response.Content.ReadAsStringAsync());
        var record = gw.AuditFor(response);
        Assert.Equal("not_found", record.GetProperty("decision").GetString());
        Assert.Equal("ci-bot", record.GetProperty("agent").GetString());
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task EveryAnswer_CarriesTheActionId_OfItsAuditRecord()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("ci-bot", "build");

        var answers = new[]
        {
            await gw.GetAsync("/api/repos", token),           // allowed
            await gw.GetAsync("/api/secret", token),          // denied
            await gw.GetAsync("/api/repos", null),            // unauthenticated
            await gw.GetAsync("/missing", token),             // no route
        };

        var ids = answers.Select(a => Assert.Single(a.Headers.GetValues("X-Perimeter-Action-Id"))).ToList();
        Assert.Equal(4, ids.Distinct().Count());
        var recorded = gw.AuditRecords().Select(r => r.GetProperty("action_id").GetString()!).ToList();
        Assert.Equal(ids, recorded);
    }
}
