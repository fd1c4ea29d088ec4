using System.Net;
using AgentPerimeter.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.RateLimiting;

public class InMemoryRateLimitTests
{
    [Fact]
    public async Task OverTheLimit_Is429_WithRetryAfterAndRateLimitFields_AndRefillsOnTheClock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gw = await TestGateway.StartWithUpstreamAsync(RateLimitPolicies.Policy(), configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("ci-bot", "build");

        // Refused actions (no route rule → 403; bad token → 401) spend no budget.
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await gw.SendAsync(HttpMethod.Post, "/api/x", token)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await gw.GetAsync("/api/x", "bad-token")).StatusCode);
        }
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 4; i++)
            statuses.Add((await gw.GetAsync($"/api/repos/{i}", token)).StatusCode);
        var limited = await gw.GetAsync("/api/repos/again", token);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("20", limited.Headers.RetryAfter!.ToString());
        Assert.Equal("\"build-rate\";q=3;w=60", Assert.Single(limited.Headers.GetValues("RateLimit-Policy")));
        Assert.Equal("\"build-rate\";r=0;t=20", Assert.Single(limited.Headers.GetValues("RateLimit")));
        var body = await limited.Content.ReadAsStringAsync();
        Assert.Contains("\"error\":\"rate_limited\"", body);
        Assert.Contains("\"retry_after_ms\":20000", body);
        var record = gw.AuditFor(limited);
        Assert.Equal("rate_limited", record.GetProperty("decision").GetString());
        Assert.Equal("build-rate", record.GetProperty("rule").GetString());
        Assert.Equal(3, upstream.Received.Count);

        clock.Advance(TimeSpan.FromSeconds(20)); // one emission interval: exactly one more action
        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/repos/later", token)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await gw.GetAsync("/api/repos/later2", token)).StatusCode);
        Assert.Contains("agentperimeter_ratelimit_decisions_total{work_type=\"build\",result=\"limited\"} 3", await gw.MetricsAsync());
    }

    [Fact]
    public async Task RevokedSession_IsRefused_AndTheRevocationOutlivesARestart()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-revoke-").FullName;
        var args = TestGateway.PrepareConfig(dir, upstream.Url, RateLimitPolicies.Policy(100));
        string token, other;
        string sessionId;
        {
            await using var app = AgentPerimeter.Gateway.Hosting.PerimeterApp.Build(args);
            await app.StartAsync();
            var listeners = app.Services.GetRequiredService<AgentPerimeter.Gateway.Hosting.PerimeterListeners>();
            using var admin = new HttpClient { BaseAddress = listeners.AdminUri };
            using var agent = new HttpClient { BaseAddress = listeners.AgentUri };
            (token, sessionId) = await MintAsync(admin, "ci-bot");
            (other, _) = await MintAsync(admin, "other-bot");
            Assert.Equal(HttpStatusCode.OK, (await Get(agent, token)).StatusCode);

            Assert.Equal(0, await Cli.Cli.RunAsync(["sessions", "revoke", sessionId, "--admin", listeners.AdminUri.ToString()]));

            var refused = await Get(agent, token);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("session_revoked", await refused.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await Get(agent, other)).StatusCode);
            await app.StopAsync();
        }
        {
            await using var app = AgentPerimeter.Gateway.Hosting.PerimeterApp.Build(args);
            await app.StartAsync();
            var listeners = app.Services.GetRequiredService<AgentPerimeter.Gateway.Hosting.PerimeterListeners>();
            using var agent = new HttpClient { BaseAddress = listeners.AgentUri };
            Assert.Equal(HttpStatusCode.Unauthorized, (await Get(agent, token)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Get(agent, other)).StatusCode);
            await app.StopAsync();
        }
    }

    internal static async Task<(string Token, string SessionId)> MintAsync(HttpClient admin, string agent, string workType = "build")
    {
        var response = await admin.PostAsync("admin/sessions", new StringContent($$"""{"agent":"{{agent}}","workType":"{{workType}}"}""", System.Text.Encoding.UTF8, "application/json"));
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (doc.RootElement.GetProperty("token").GetString()!, doc.RootElement.GetProperty("session_id").GetString()!);
    }

    internal static Task<HttpResponseMessage> Get(HttpClient agent, string token, string path = "/api/repos")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", token);
        return agent.SendAsync(request);
    }
}
