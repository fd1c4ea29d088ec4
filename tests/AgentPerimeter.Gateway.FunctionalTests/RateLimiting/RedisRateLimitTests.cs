using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.RateLimiting;

/// <summary>Limits and revocations shared by replicas through a real redis-server.</summary>
[Collection(Infrastructure.MeasuredAlone.Name)] // the start-up burst is measured against the default timeout
public class RedisRateLimitTests
{
    private static string[] RedisArgs(RedisServer redis, params string[] more) =>
        [$"--Gateway:Redis:ConnectionString={redis.ConnectionString}", "--Gateway:Redis:TimeoutMilliseconds=1000", .. more];

    /// <summary>
    /// Three gateway processes with the limits policy of <paramref name="budget"/> per hour and one signing
    /// key (the first replica's), added to <paramref name="replicas"/> as each starts listening.
    /// </summary>
    private static async Task StartReplicasAsync(List<(ChildProcess Process, Uri Agent, Uri Admin)> replicas, string dir, string upstreamUrl, int budget, IEnumerable<string> redisArgs)
    {
        string? keyPath = null;
        for (int i = 0; i < 3; i++)
        {
            var args = TestGateway.PrepareConfig(Path.Combine(dir, $"r{i}"), upstreamUrl, RateLimitPolicies.Policy(budget, "01:00:00"))
                .Where(a => a != "--Gateway:Logging:Console=false")
                .Concat(redisArgs)
                .Concat(keyPath is null ? [] : [$"--Gateway:Identity:SigningKeyPath={keyPath}"]);
            var process = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"), args);
            await process.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
            var m = Regex.Match(process.Output, "\"AgentUri\":\"(?<agent>[^\"]+)\",\"AdminUri\":\"(?<admin>[^\"]+)\"");
            replicas.Add((process, new Uri(m.Groups["agent"].Value), new Uri(m.Groups["admin"].Value)));
            keyPath ??= Path.Combine(dir, "r0", "data", "signing-key.pem"); // one signing key for the perimeter
        }
    }

    [Fact]
    public async Task ThreeGatewayProcesses_OneRedis_AllowExactlyTheBudget()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        // 40 per hour: the emission interval (90 s) is far longer than the test, so GCRA allows exactly
        // the burst of 40 and not one more, however the requests are spread over the replicas.
        const int budget = 40;
        var dir = Directory.CreateTempSubdirectory("perimeter-replicas-").FullName;
        var replicas = new List<(ChildProcess Process, Uri Agent, Uri Admin)>();
        try
        {
            // Accuracy, not latency, is under test here: a generous timeout keeps a loaded CI
            // machine from turning slow answers into fail-closed refusals.
            await StartReplicasAsync(replicas, dir, upstream.Url, budget, RedisArgs(redis, "--Gateway:Redis:TimeoutMilliseconds=5000"));
            // Each replica is ready once its Redis connection is up (readiness reports the limit store).
            foreach (var r in replicas)
            {
                using var probe = new HttpClient { BaseAddress = r.Admin };
                await Eventually.UntilAsync(async () => (await probe.GetAsync("readyz")).StatusCode == HttpStatusCode.OK,
                    TimeSpan.FromSeconds(30), "every replica became ready", () => r.Process.Output);
            }
            using var admin = new HttpClient { BaseAddress = replicas[0].Admin };
            var (token, _) = await InMemoryRateLimitTests.MintAsync(admin, "ci-bot");
            var clients = replicas.Select(r => new HttpClient { BaseAddress = r.Agent }).ToArray();

            var responses = await Task.WhenAll(Enumerable.Range(0, 150).Select(i => InMemoryRateLimitTests.Get(clients[i % 3], token, $"/api/repos/{i}")));
            var statuses = responses.Select(r => r.StatusCode).ToArray();
            var unexpected = responses.FirstOrDefault(r => r.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests));

            Assert.True(unexpected is null, unexpected is null ? "" : $"{unexpected.StatusCode}: {await unexpected.Content.ReadAsStringAsync()}\n"
                + string.Join("\n", replicas.SelectMany(r => r.Process.Output.Split('\n')).Where(l => l.Contains("StoreFailed") || l.Contains("redis", StringComparison.OrdinalIgnoreCase)).Take(10)));
            Assert.Equal(budget, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(150 - budget, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
            Assert.Equal(budget, upstream.Received.Count);
            // Every replica refused some: the budget really was shared.
            foreach (var c in clients)
                Assert.Equal(HttpStatusCode.TooManyRequests, (await InMemoryRateLimitTests.Get(c, token)).StatusCode);
        }
        finally
        {
            foreach (var r in replicas)
                r.Process.Dispose();
        }
    }

    [Fact]
    public async Task ABurstRightAfterStart_WithTheDefaultTimeout_GetsExactlyTheBudget_AndNoUnavailable()
    {
        using var redis = await RedisServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        const int budget = 40;
        var dir = Directory.CreateTempSubdirectory("perimeter-burst-").FullName;
        var replicas = new List<(ChildProcess Process, Uri Agent, Uri Admin)>();
        try
        {
            // The default Redis timeout: what an operator who sets nothing gets.
            await StartReplicasAsync(replicas, dir, upstream.Url, budget, [$"--Gateway:Redis:ConnectionString={redis.ConnectionString}"]);
            using var admin = new HttpClient { BaseAddress = replicas[0].Admin };
            var (token, _) = await InMemoryRateLimitTests.MintAsync(admin, "ci-bot");
            var clients = replicas.Select(r => new HttpClient { BaseAddress = r.Agent }).ToArray();

            // No readiness wait, no warm-up request: 64 clients at once, ten rounds, as soon as the replicas listen.
            var statuses = new List<HttpStatusCode>();
            string? firstUnexpected = null;
            for (int round = 0; round < 10; round++)
            {
                var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => InMemoryRateLimitTests.Get(clients[i % 3], token, $"/api/repos/{round}-{i}")));
                statuses.AddRange(responses.Select(r => r.StatusCode));
                foreach (var r in responses.Where(r => r.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests)))
                    firstUnexpected ??= $"{r.StatusCode}: {await r.Content.ReadAsStringAsync()}";
            }

            Assert.True(firstUnexpected is null, firstUnexpected);
            Assert.Equal(budget, statuses.Count(s => s == HttpStatusCode.OK));
            Assert.Equal(640 - budget, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        }
        finally
        {
            foreach (var r in replicas)
                r.Process.Dispose();
        }
    }

    [Fact]
    public async Task Partitions_SessionsDoNotShare_AgentPartitionDoes_RouteLimitOnlyOnItsRoute()
    {
        using var redis = await RedisServer.StartAsync();
        await using var gw = await TestGateway.StartWithUpstreamAsync(RateLimitPolicies.Policy(2), extraArgs: RedisArgs(redis));
        await gw.WaitReadyAsync();
        var a = await gw.TokenAsync("ci-bot", "build");
        var b = await gw.TokenAsync("ci-bot", "build");
        var e1 = await gw.TokenAsync("explorer", "exploration");
        var e2 = await gw.TokenAsync("explorer", "exploration");

        async Task<HttpStatusCode> S(string path, string t) => (await gw.GetAsync(path, t)).StatusCode;

        // build: per session, 2 each.
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], [await S("/api/x", a), await S("/api/x", a), await S("/api/x", a)]);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], [await S("/api/x", b), await S("/api/x", b), await S("/api/x", b)]);
        // exploration: per agent, only on route "other": two sessions of one agent share 2; route "api" is unlimited.
        Assert.Equal(HttpStatusCode.OK, await S("/other/1", e1));
        Assert.Equal(HttpStatusCode.OK, await S("/other/2", e2));
        Assert.Equal(HttpStatusCode.TooManyRequests, await S("/other/3", e1));
        Assert.Equal(HttpStatusCode.TooManyRequests, await S("/other/4", e2));
        for (int i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.OK, await S($"/api/public/{i}", e1));
    }

    [Fact]
    public async Task RedisKilledMidRun_FailClosedRefuses_FailOpenPassesDegraded_AndLimitsReturnWithRedis()
    {
        using var redis = await RedisServer.StartAsync();
        await using var gw = await TestGateway.StartWithUpstreamAsync(RateLimitPolicies.Policy(2), extraArgs: RedisArgs(redis));
        await gw.WaitReadyAsync();
        var build = await gw.TokenAsync("ci-bot", "build");
        var explore = await gw.TokenAsync("explorer", "exploration");
        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/x", build)).StatusCode);

        redis.Kill();
        var closed = await gw.GetAsync("/api/x", build);
        var open = await gw.GetAsync("/other/x", explore);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, closed.StatusCode);
        Assert.Contains("ratelimit_unavailable", await closed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        var degraded = gw.AuditFor(open);
        Assert.Equal("degraded", degraded.GetProperty("decision").GetString());
        Assert.Equal("ratelimit_degraded", degraded.GetProperty("code").GetString());
        Assert.False(degraded.GetProperty("governed").GetBoolean());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gw.Admin.GetAsync("readyz")).StatusCode);
        Assert.Matches(@"(?m)^agentperimeter_ratelimit_store_errors_total [1-9]", await gw.MetricsAsync());

        // Redis comes back (empty, as a restarted cache would): the gateway reconnects by itself.
        await redis.RestartAsync();
        HttpStatusCode status = HttpStatusCode.ServiceUnavailable;
        await Eventually.UntilAsync(async () => (status = (await gw.GetAsync("/api/x", build)).StatusCode) != HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(20), "the gateway reconnected to the restarted redis-server");
        Assert.Equal(HttpStatusCode.OK, status);
        // The limit (2 per minute) is enforced again: within two more actions one is refused. (Not
        // exactly the second: a call that timed out while the connection came back may have spent budget.)
        var next = new[] { (await gw.GetAsync("/api/x", build)).StatusCode, (await gw.GetAsync("/api/x", build)).StatusCode };
        Assert.Contains(HttpStatusCode.TooManyRequests, next);
        Assert.DoesNotContain(HttpStatusCode.ServiceUnavailable, next);
        Assert.Equal(HttpStatusCode.OK, (await gw.Admin.GetAsync("readyz")).StatusCode);
    }

    [Fact]
    public async Task RevokingOnReplicaA_StopsTheSessionOnBAndC_WithinOneSecond()
    {
        using var redis = await RedisServer.StartAsync();
        await using var a = await TestGateway.StartWithUpstreamAsync(RateLimitPolicies.Policy(1000), extraArgs: RedisArgs(redis));
        var upstream = a.Upstream;
        var key = Path.Combine(a.DataDir, "signing-key.pem");
        await using var b = await TestGateway.StartAsync(upstream.Url, RateLimitPolicies.Policy(1000), extraArgs: RedisArgs(redis, $"--Gateway:Identity:SigningKeyPath={key}"));
        await using var c = await TestGateway.StartAsync(upstream.Url, RateLimitPolicies.Policy(1000), extraArgs: RedisArgs(redis, $"--Gateway:Identity:SigningKeyPath={key}"));
        foreach (var g in new[] { a, b, c })
            await g.WaitReadyAsync();
        var (token, session) = await InMemoryRateLimitTests.MintAsync(a.Admin, "ci-bot");
        var (agentToken, _) = await InMemoryRateLimitTests.MintAsync(a.Admin, "rogue-bot");
        foreach (var g in new[] { a, b, c })
            Assert.Equal(HttpStatusCode.OK, (await g.GetAsync("/api/x", token)).StatusCode);

        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await a.Admin.PostAsync($"admin/sessions/{session}/revoke", null)).StatusCode);
        foreach (var g in new[] { b, c })
        {
            await Eventually.UntilAsync(async () => (await g.GetAsync("/api/x", token)).StatusCode != HttpStatusCode.OK,
                TimeSpan.FromSeconds(1) - clock.Elapsed, "every replica refused the revoked session within 1 s of its revocation");
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        var refused = await c.GetAsync("/api/x", token);
        Assert.Contains("session_revoked", await refused.Content.ReadAsStringAsync());

        // By agent: every session of the agent, on every replica.
        Assert.Equal(0, await Cli.Cli.RunAsync(["sessions", "revoke", "--agent", "rogue-bot", "--admin", b.AdminUri.ToString()]));
        clock.Restart();
        await Eventually.UntilAsync(async () => (await a.GetAsync("/api/x", agentToken)).StatusCode != HttpStatusCode.OK,
            TimeSpan.FromSeconds(1), "replica A stopped serving the revoked agent within 1 s");

        // A replica started afterwards knows every revocation at once.
        await using var d = await TestGateway.StartAsync(upstream.Url, RateLimitPolicies.Policy(1000), extraArgs: RedisArgs(redis, $"--Gateway:Identity:SigningKeyPath={key}"));
        await d.WaitReadyAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await d.GetAsync("/api/x", token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await d.GetAsync("/api/x", agentToken)).StatusCode);
    }
}
