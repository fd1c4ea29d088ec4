using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Approvals;

/// <summary>With Redis configured every replica sees the same approvals: held on one, decided and spent on another, once.</summary>
public class RedisApprovalTests
{
    private const string Policy = """
        { "Perimeter": { "WorkTypes": { "build": { "Rules": [
            { "Id": "build-release", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/releases" ], "Approval": "required" } ] } } } }
        """;

    [Fact]
    public async Task AnApprovalHeldOnOneReplica_IsDecidedAndSpentOnAnother_ExactlyOnce()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        var (a, b) = await RedisReplicas.StartAsync(redis, upstream.Url, Policy);
        await using var _ = a;
        await using var __ = b;
        var token = await a.TokenAsync("release-bot", "build");

        async Task<HttpResponseMessage> Release(TestGateway gateway, string? approval)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/releases") { Content = new StringContent("""{"version":"1.4.2"}""", Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (approval is not null)
                request.Headers.Add("X-Perimeter-Approval", approval);
            return await gateway.Agent.SendAsync(request);
        }

        var held = await Release(a, null);
        Assert.Equal(HttpStatusCode.PreconditionRequired, held.StatusCode);
        var id = JsonDocument.Parse(await held.Content.ReadAsStringAsync()).RootElement.GetProperty("approval_id").GetString()!;
        // Asking again on the other replica finds the same pending approval.
        var again = await Release(b, null);
        Assert.Equal(id, JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("approval_id").GetString());

        var seen = JsonDocument.Parse(await b.Admin.GetStringAsync($"admin/approvals/{id}")).RootElement;
        Assert.Equal("pending", seen.GetProperty("status").GetString());
        Assert.Equal("POST /api/releases", seen.GetProperty("what").GetString());
        Assert.Equal("""{"version":"1.4.2"}""", seen.GetProperty("arguments").GetString());
        Assert.True((await b.Admin.PostAsync($"admin/approvals/{id}/approve", null)).IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await a.Admin.PostAsync($"admin/approvals/{id}/deny", null)).StatusCode); // decided once

        Assert.Equal(HttpStatusCode.OK, (await Release(b, id)).StatusCode);
        var reuse = await Release(a, id);
        Assert.Equal(HttpStatusCode.Forbidden, reuse.StatusCode);
        Assert.Contains("approval_used", await reuse.Content.ReadAsStringAsync());
        Assert.Single(upstream.Received);
        Assert.Equal("used", JsonDocument.Parse(await a.Admin.GetStringAsync($"admin/approvals/{id}")).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task WithRedisUnreachable_ApprovalGatedAndIdempotentCalls_AreRefused_NotLetThrough()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        const string policy = """
            { "Perimeter": { "WorkTypes": { "build": { "Rules": [
                { "Id": "build-release", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/releases" ], "Approval": "required" },
                { "Id": "build-start", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/builds" ] } ] } } } }
            """;
        await using var gateway = await TestGateway.StartAsync(upstream.Url, policy,
            extraArgs: [$"--Gateway:Redis:ConnectionString={redis.ConnectionString}", "--Gateway:Redis:TimeoutMilliseconds=300"]);
        await gateway.WaitReadyAsync();
        var token = await gateway.TokenAsync("release-bot", "build");
        redis.Kill();

        using var release = new HttpRequestMessage(HttpMethod.Post, "/api/releases") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        release.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var held = await gateway.Agent.SendAsync(release);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, held.StatusCode);
        Assert.Equal("approval_unavailable", JsonDocument.Parse(await held.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());

        using var build = new HttpRequestMessage(HttpMethod.Post, "/api/builds") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        build.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        build.Headers.Add("Idempotency-Key", "while-redis-is-down");
        var once = await gateway.Agent.SendAsync(build);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, once.StatusCode);
        Assert.Equal("idempotency_unavailable", JsonDocument.Parse(await once.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());

        Assert.Empty(upstream.Received);
        Assert.Equal("approval_unavailable", gateway.AuditFor(held).GetProperty("code").GetString());
        Assert.Equal("idempotency_unavailable", gateway.AuditFor(once).GetProperty("code").GetString());
    }
}
