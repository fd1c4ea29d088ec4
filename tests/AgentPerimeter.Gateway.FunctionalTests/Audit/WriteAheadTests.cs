using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.Protocol.Audit;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Audit;

/// <summary>
/// No effect without a record: an allowed action's intent is durable before the upstream sees a byte,
/// a gateway killed mid-action leaves an intent that the next start closes as <c>outcome_unknown</c>, and
/// an intent that cannot be written stops the action before it is forwarded. Real gateway processes,
/// killed with SIGKILL; a real upstream that records every request it executed.
/// </summary>
public sealed class WriteAheadTests
{
    private static readonly string GatewayDll = ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway");

    private sealed record RunningGateway(ChildProcess Process, Uri Agent, Uri Admin);

    private static async Task<RunningGateway> StartGatewayAsync(string[] args)
    {
        var process = ChildProcess.Start(GatewayDll, args.Where(a => a != "--Gateway:Logging:Console=false"));
        await process.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
        var match = Regex.Match(process.Output, "\"AgentUri\":\"(?<agent>[^\"]+)\",\"AdminUri\":\"(?<admin>[^\"]+)\"");
        Assert.True(match.Success, process.Output);
        return new RunningGateway(process, new Uri(match.Groups["agent"].Value), new Uri(match.Groups["admin"].Value));
    }

    private static async Task<string> TokenAsync(Uri admin, string agent, string workType)
    {
        using var http = new HttpClient { BaseAddress = admin };
        var response = await http.PostAsJsonAsync("admin/sessions", new { agent, workType });
        response.EnsureSuccessStatusCode();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    private static List<JsonElement> Records(string auditPath) =>
        File.ReadAllLines(auditPath).Where(l => l.EndsWith('}')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    private static string? Phase(JsonElement r) => r.TryGetProperty("phase", out var p) ? p.GetString() : null;

    private static string? Id(JsonElement r) => r.TryGetProperty("action_id", out var a) ? a.GetString() : null;

    private static HttpRequestMessage Build(string token, int delayMs)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/builds") { Content = JsonContent.Create(new { repo = "perimeter" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("X-Test-Delay-Ms", delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return request;
    }

    [Fact]
    public async Task GatewayKilledWhileTheUpstreamWorks_IntentIsOnDisk_RestartRecordsOutcomeUnknown()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-wal-").FullName;
        var args = TestGateway.PrepareConfig(dir, upstream.Url);
        var auditPath = Path.Combine(dir, "data", "audit.jsonl");

        var gateway = await StartGatewayAsync(args);
        var token = await TokenAsync(gateway.Admin, "ci-bot", "build");
        using var agent = new HttpClient { BaseAddress = gateway.Agent };
        var pending = agent.SendAsync(Build(token, delayMs: 60_000));
        await Eventually.UntilAsync(() => !upstream.Received.IsEmpty, TimeSpan.FromSeconds(30), "the upstream started the build");

        // While the build runs, the operator sees it in flight.
        using (var admin = new HttpClient { BaseAddress = gateway.Admin })
        {
            var inFlight = await admin.GetStringAsync("admin/actions?state=in_flight");
            Assert.Contains("/api/builds", inFlight);
        }
        gateway.Process.Kill();
        gateway.Process.Dispose();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => pending);

        // The upstream executed it; the log has its intent, written before the upstream saw a byte.
        var executed = Assert.Single(upstream.Received);
        var id = executed.Headers["X-Perimeter-Action-Id"];
        var intent = Assert.Single(Records(auditPath), r => Id(r) == id);
        Assert.Equal("intent", Phase(intent));
        Assert.Equal("allow", intent.GetProperty("decision").GetString());
        Assert.Equal("build-start", intent.GetProperty("rule").GetString());
        Assert.Equal("/api/builds", intent.GetProperty("path").GetString());
        Assert.Equal("ci-bot", intent.GetProperty("agent").GetString());
        Assert.Contains(id, AuditVerifier.Verify(auditPath).OpenIntents);

        // The next start finds the intent with no outcome and closes it.
        var restarted = await StartGatewayAsync(args);
        using (restarted.Process)
        {
            var outcome = Assert.Single(Records(auditPath), r => Id(r) == id && Phase(r) == "outcome");
            Assert.Equal("outcome_unknown", outcome.GetProperty("outcome").GetString());
            Assert.True(outcome.TryGetProperty("found_at", out _));
            var verification = AuditVerifier.Verify(auditPath);
            Assert.True(verification.IsIntact, string.Join("\n", verification.Errors));
            Assert.Contains(id, verification.UnknownOutcomes);
            Assert.Empty(verification.OpenIntents);
        }
    }

    [Fact]
    public async Task GatewayKilledMidAction_ARetryWithTheSameIdempotencyKey_IsAnsweredOutcomeUnknown_NeverExecutedTwice()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-wal-").FullName;
        var args = TestGateway.PrepareConfig(dir, upstream.Url);
        var gateway = await StartGatewayAsync(args);
        var token = await TokenAsync(gateway.Admin, "ci-bot", "build");
        using (var agent = new HttpClient { BaseAddress = gateway.Agent })
        {
            var request = Build(token, delayMs: 60_000);
            request.Headers.Add("Idempotency-Key", "build-once");
            var pending = agent.SendAsync(request);
            await Eventually.UntilAsync(() => !upstream.Received.IsEmpty, TimeSpan.FromSeconds(30), "the upstream started the build");
            gateway.Process.Kill();
            gateway.Process.Dispose();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => pending);
        }

        // The restart finds the intent; the key (kept in memory, so gone with the process) is known from it.
        var restarted = await StartGatewayAsync(args);
        using (restarted.Process)
        {
            var fresh = await TokenAsync(restarted.Admin, "ci-bot", "build");
            using var agent = new HttpClient { BaseAddress = restarted.Agent };
            var retry = Build(token, delayMs: 0);
            retry.Headers.Add("Idempotency-Key", "build-once");
            using var response = await agent.SendAsync(retry);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Contains("idempotency_outcome_unknown", body);
            Assert.Single(upstream.Received); // executed once, by the first gateway
            Assert.NotEqual(token, fresh);
        }
    }

    [Fact]
    public async Task UnderLoad_SigkillAtARandomMoment_EveryExecutedRequestHasAnIntent_EveryAnsweredOneAnOutcome()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-wal-").FullName;
        var args = TestGateway.PrepareConfig(dir, upstream.Url);
        var auditPath = Path.Combine(dir, "data", "audit.jsonl");
        var gateway = await StartGatewayAsync(args);
        var token = await TokenAsync(gateway.Admin, "ci-bot", "build");

        var answered = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        using var agent = new HttpClient { BaseAddress = gateway.Agent };
        var clients = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await agent.SendAsync(Build(token, delayMs: 5 + i * 3));
                    if (response.StatusCode == HttpStatusCode.OK && response.Headers.TryGetValues("X-Perimeter-Action-Id", out var ids))
                        answered.Add(ids.Single());
                }
                catch (HttpRequestException)
                {
                    return; // the gateway is gone
                }
            }
        })).ToList();

        await Eventually.UntilAsync(() => upstream.Received.Count >= 50, TimeSpan.FromSeconds(60), "the load reached the upstream");
        await Task.Delay(Random.Shared.Next(0, 400)); // the random moment, somewhere in steady load
        gateway.Process.Kill();
        stop.Cancel();
        await Task.WhenAll(clients);
        gateway.Process.Dispose();

        var records = Records(auditPath);
        var intents = records.Where(r => Phase(r) == "intent").Select(Id).ToHashSet();
        var finals = records.Where(r => Phase(r) is "outcome" or "single").Select(Id).ToHashSet();
        var executed = upstream.Received.Select(r => r.Headers["X-Perimeter-Action-Id"]).ToList();
        Assert.True(executed.Count >= 50);
        var unaudited = executed.Where(id => !intents.Contains(id)).ToList();   // executed upstream minus intents = 0
        Assert.True(unaudited.Count == 0, $"executed upstream with no intent record: {string.Join(", ", unaudited)}");
        Assert.True(answered.Count > 0);
        var unrecorded = answered.Where(id => !finals.Contains(id)).ToList();   // answered minus outcomes = 0
        Assert.True(unrecorded.Count == 0, $"answered with no outcome record: {string.Join(", ", unrecorded)}");
        Assert.True(AuditVerifier.Verify(auditPath).IsIntact || AuditVerifier.Verify(auditPath).TornTail is not null);
    }

    [Fact]
    public async Task AnswerWithNoBody_IsRecordedWithItsRealStatus_AndCarriesTheActionId()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("ci-bot", "build");
        foreach (var status in new[] { 202, 204, 200 })
        {
            using var request = Build(token, delayMs: 0);
            request.Headers.Add("X-Test-Empty-Status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var response = await gw.Agent.SendAsync(request);
            Assert.Equal(status, (int)response.StatusCode);
            var record = gw.AuditFor(response);
            Assert.Equal(status, record.GetProperty("status").GetInt32());
            Assert.Equal(status, record.GetProperty("upstream_status").GetInt32());
            Assert.Equal("outcome", record.GetProperty("phase").GetString());
            Assert.Equal("forwarded", record.GetProperty("outcome").GetString());
        }
    }

    // A route whose cluster is missing used to start and answer 503 route_unavailable at request time;
    // the configuration check (issue 16) now refuses it at startup and on reload, naming route and cluster.
    [Fact]
    public async Task RouteWhoseClusterIsMissing_IsRefusedAtStartup_NamingTheRouteAndTheCluster()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var routes = TestPolicies.Routes(upstream.Url).Replace(
            "\"other\": { \"ClusterId\": \"up\"", "\"other\": { \"ClusterId\": \"nowhere\"");

        var refused = await Assert.ThrowsAsync<AgentPerimeter.Gateway.Hosting.ConfigurationValidationException>(
            () => TestGateway.StartAsync(upstream.Url, TestPolicies.Default, routes));

        Assert.Contains(refused.Errors, e => e.Contains("ReverseProxy:Routes:other:ClusterId: cluster 'nowhere' is not defined", StringComparison.Ordinal));
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task ForwardedAction_HasIntentThenOutcome_RefusedActionOneRecord_OperatorActionsRecorded()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("ci-bot", "build");
        using var allowed = await gw.GetAsync("/api/repos", token);
        using var denied = await gw.SendAsync(HttpMethod.Delete, "/api/repos", token);
        var id = allowed.Headers.GetValues("X-Perimeter-Action-Id").Single();
        var deniedId = denied.Headers.GetValues("X-Perimeter-Action-Id").Single();

        var all = gw.AllAuditRecords();
        Assert.Equal(["intent", "outcome"], all.Where(r => Id(r) == id).Select(Phase));
        Assert.Equal(["single"], all.Where(r => Id(r) == deniedId).Select(Phase));
        // The upstream saw the same id the records carry.
        Assert.Equal(id, Assert.Single(gw.Upstream.Received).Headers["X-Perimeter-Action-Id"]);
        // Minting the token is an operator action in the same chain.
        var minted = Assert.Single(all, r => r.GetProperty("kind").GetString() == "operator" && r.GetProperty("event").GetString() == "token_minted");
        Assert.Equal("ci-bot", minted.GetProperty("agent").GetString());
        Assert.Equal("admin-listener", minted.GetProperty("operator").GetString());
        Assert.True(AuditVerifier.Verify(gw.AuditPath).IsIntact);
    }

    [Fact]
    public async Task DiskFull_NothingReachesTheUpstreamUnaudited_AndTheGatewayRecoversWithoutRestart()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Assert.Fail("This test mounts a small tmpfs and needs root (CI and the developer machines run as root).");
            return;
        }
        var mount = Directory.CreateTempSubdirectory("perimeter-full-").FullName;
        using (var mounting = ChildProcess.StartExecutable("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mount]))
            Assert.Equal(0, await mounting.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        try
        {
            await using var upstream = await TestUpstream.StartAsync();
            var auditPath = Path.Combine(mount, "audit.jsonl");
            await using var gw = await TestGateway.StartAsync(upstream.Url, extraArgs:
                [$"--Gateway:Audit:Path={auditPath}", $"--Gateway:Audit:CheckpointPath={Path.Combine(mount, "checkpoints.jsonl")}"]);
            var token = await gw.TokenAsync("ci-bot", "build");

            // Fill the disk but for a few KiB, then keep acting until the log cannot take a record.
            var filler = Path.Combine(mount, "filler");
            await using (var fill = File.Create(filler))
            {
                var block = new byte[4096];
                try
                {
                    while (true)
                        fill.Write(block);
                }
                catch (IOException)
                {
                }
            }
            File.WriteAllBytes(filler, new byte[new FileInfo(filler).Length - 8 * 1024]);
            int refused = 0;
            for (int i = 0; i < 200 && refused < 5; i++)
            {
                try
                {
                    using var response = await gw.SendAsync(HttpMethod.Post, "/api/builds", token, JsonContent.Create(new { i }));
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                        refused++; // the intent could not be written: refused before forwarding
                }
                catch (HttpRequestException)
                {
                    refused++; // the outcome could not be written: the connection is dropped rather than answered unrecorded
                }
            }
            Assert.True(refused >= 5, "the full disk never refused an action");

            // Every request the upstream executed has its intent on the (full) disk.
            var intents = Records(auditPath).Where(r => Phase(r) == "intent").Select(Id).ToHashSet();
            var executed = upstream.Received.Select(r => r.Headers["X-Perimeter-Action-Id"]).ToList();
            Assert.NotEmpty(executed);
            var unaudited = executed.Where(id => !intents.Contains(id)).ToList();
            Assert.True(unaudited.Count == 0, $"reached the upstream with no intent record: {string.Join(", ", unaudited)}");

            // Room again: actions go through without a restart, and readiness stays ready.
            File.Delete(filler);
            await Eventually.UntilAsync(async () =>
            {
                using var response = await gw.GetAsync("/api/repos", token);
                return response.StatusCode == HttpStatusCode.OK;
            }, TimeSpan.FromSeconds(10), "the gateway served again after space was freed");
            for (int i = 0; i < 20; i++)
            {
                using var ready = await gw.Admin.GetAsync("readyz");
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
                using var response = await gw.GetAsync("/api/repos", token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            var executedAfter = upstream.Received.Select(r => r.Headers["X-Perimeter-Action-Id"]).ToList();
            var intentsAfter = Records(auditPath).Where(r => Phase(r) == "intent").Select(Id).ToHashSet();
            var unauditedAfter = executedAfter.Where(id => !intentsAfter.Contains(id)).ToList();
            Assert.True(unauditedAfter.Count == 0, $"reached the upstream with no intent record: {string.Join(", ", unauditedAfter)}");
        }
        finally
        {
            using var unmounting = ChildProcess.StartExecutable("umount", ["-l", mount]);
            await unmounting.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
