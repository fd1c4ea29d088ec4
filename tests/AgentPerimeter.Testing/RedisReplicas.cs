namespace AgentPerimeter.Testing;

/// <summary>Two gateways that share one redis-server and one signing key: replicas of one perimeter.</summary>
public static class RedisReplicas
{
    public static async Task<(TestGateway A, TestGateway B)> StartAsync(RedisServer redis, string upstreamUrl, string policy, int timeoutMilliseconds = 2000,
        string? routes = null, string[]? extraArgs = null)
    {
        string[] redisArgs = [$"--Gateway:Redis:ConnectionString={redis.ConnectionString}", $"--Gateway:Redis:TimeoutMilliseconds={timeoutMilliseconds}", .. extraArgs ?? []];
        var a = await TestGateway.StartAsync(upstreamUrl, policy, routes, extraArgs: redisArgs);
        var b = await TestGateway.StartAsync(upstreamUrl, policy, routes,
            extraArgs: [.. redisArgs, $"--Gateway:Identity:SigningKeyPath={Path.Combine(a.DataDir, "signing-key.pem")}"]);
        await a.WaitReadyAsync();
        await b.WaitReadyAsync();
        return (a, b);
    }
}
