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

    private static async Task<HttpResponseMessage> PostBuildAsync(TestGateway gateway, string token, string body, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/builds") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await gateway.Agent.SendAsync(request);
    }

    [Fact]
    public async Task AKeyUsedOnOneReplica_IsReplayedByAnother_AndExecutedOnce()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        var (a, b) = await RedisReplicas.StartAsync(redis, upstream.Url, Policy);
        await using var _ = a;
        await using var __ = b;
        var token = await a.TokenAsync("ci-bot", "build");

        Task<HttpResponseMessage> Post(TestGateway gateway) => PostBuildAsync(gateway, token, """{"repo":"x"}""", "replica-key-1");

        var first = await Post(a);
        var second = await Post(b);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.True(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Single(upstream.Received);
        Assert.True(b.AuditFor(second).GetProperty("replay").GetBoolean());
    }

    [Fact]
    public async Task AClaimRedisWritesAfterTheGatewayGaveUp_DoesNotBlockTheKey_TheRetryExecutesOnce()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        var (a, b) = await RedisReplicas.StartAsync(redis, upstream.Url, Policy);
        await using var _ = a;
        await using var __ = b;
        var token = await a.TokenAsync("ci-bot", "build");

        Task<HttpResponseMessage> Post() => PostBuildAsync(a, token, """{"repo":"late"}""", "late-claim-1");

        // Redis holds every write for 2.5 s: the gateway's SET NX waits past its timeout, then runs.
        await using (var control = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true"))
            await control.GetServer(control.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", "2500", "WRITE");
        var gaveUp = await Post();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, gaveUp.StatusCode);
        Assert.Contains("idempotency_unavailable", await gaveUp.Content.ReadAsStringAsync());
        Assert.Empty(upstream.Received);

        // Once the late claim has landed (and been taken back), the retry executes, once.
        HttpResponseMessage? retry = null;
        await Eventually.WithinAsync(async () => (retry = await Post()).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10));
        var replay = await Post();

        Assert.Equal(HttpStatusCode.OK, retry!.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
        Assert.Single(upstream.Received);
    }
}
