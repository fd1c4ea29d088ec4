using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Idempotency;

/// <summary>Idempotency keys live in Redis when it is configured: a replay on another replica is still a replay.</summary>
public class RedisIdempotencyTests
{
    private const string Policy = """
        { "Perimeter": { "WorkTypes": { "build": { "Rules": [ { "Id": "build-start", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/builds" ] } ] } } } }
        """;

    [Fact]
    public async Task AKeyUsedOnOneReplica_IsReplayedByAnother_AndExecutedOnce()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        var (a, b) = await RedisReplicas.StartAsync(redis, upstream.Url, Policy);
        await using var _ = a;
        await using var __ = b;
        var token = await a.TokenAsync("ci-bot", "build");

        async Task<HttpResponseMessage> Post(TestGateway gateway)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/builds") { Content = new StringContent("""{"repo":"x"}""", Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("Idempotency-Key", "replica-key-1");
            return await gateway.Agent.SendAsync(request);
        }

        var first = await Post(a);
        var second = await Post(b);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Single(upstream.Received);
        Assert.True(b.AuditFor(second).GetProperty("replay").GetBoolean());
    }
}
