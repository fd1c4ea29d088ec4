using System.Net;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Policy;

public class PolicyReloadTests
{
    private static async Task<string> WaitForVersionChangeAsync(TestGateway gw, string oldPolicyJson, Func<string, bool> done)
    {
        // File watching is asynchronous: poll the admin API until the reload has been processed.
        var policy = "";
        await Eventually.UntilAsync(async () => done(policy = await gw.Admin.GetStringAsync("admin/policy")), TimeSpan.FromSeconds(10),
            "the gateway processed the policy change", () => "its policy: " + policy);
        return policy;
    }

    [Fact]
    public async Task ValidPolicyChange_AppliesWithoutRestart()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("explorer", "exploration");
        Assert.Equal(HttpStatusCode.Forbidden, (await gw.GetAsync("/other/x", token)).StatusCode);

        var updated = TestPolicies.Default.Replace(
            """{ "Id": "explore-public", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/public/**" ] }""",
            """{ "Id": "explore-public", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/public/**" ] }, { "Id": "explore-other", "Route": "other", "Methods": [ "GET" ], "Paths": [ "/other/**" ] }""");
        Assert.NotEqual(TestPolicies.Default, updated);
        await File.WriteAllTextAsync(Path.Combine(gw.ConfigDir, "perimeter.json"), updated);
        await WaitForVersionChangeAsync(gw, updated, p => p.Contains("explore-other"));

        var response = await gw.GetAsync("/other/x", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("explore-other", gw.AuditFor(response).GetProperty("rule").GetString());
    }

    [Fact]
    public async Task InvalidPolicyChange_IsRefused_AndTheRunningPolicyKept()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("explorer", "exploration");
        var before = await gw.Admin.GetStringAsync("admin/policy");

        var broken = TestPolicies.Default.Replace("\"Route\": \"api\"", "\"Route\": \"ghost\"").Replace("\"GET\"", "\"YEET\"");
        await File.WriteAllTextAsync(Path.Combine(gw.ConfigDir, "perimeter.json"), broken);
        // The series exists at zero from start: wait for the count.
        await Eventually.UntilAsync(async () => Rejected(await gw.MetricsAsync()) >= 1,
            TimeSpan.FromSeconds(10), "the gateway counted the refused reload");

        Assert.Contains("agentperimeter_policy_reloads_total{result=\"rejected\"}", await gw.MetricsAsync());
        Assert.Equal(before, await gw.Admin.GetStringAsync("admin/policy"));
        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/public/readme", token)).StatusCode);
        var log = gw.LogText();
        Assert.Contains("route 'ghost' is not defined", log);
        Assert.Contains("'YEET' is not an HTTP method", log);
        Assert.Contains("Policy reload refused", log);
    }

    [Fact]
    public async Task RouteFileChange_AppliesWithoutRestart()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("explorer", "exploration");
        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/public/x", token)).StatusCode);

        // Move the "api" route to a new prefix: the old path stops matching any route.
        var routes = TestPolicies.Routes(upstream.Url).Replace("\"Path\": \"/api/{**rest}\"", "\"Path\": \"/v2/api/{**rest}\"");
        await File.WriteAllTextAsync(Path.Combine(gw.ConfigDir, "routes.json"), routes);
        HttpStatusCode status = HttpStatusCode.OK;
        await Eventually.UntilAsync(async () => (status = (await gw.GetAsync("/api/public/x", token)).StatusCode) != HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), "the old path stopped matching a route");
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    private static double Rejected(string metrics) =>
        metrics.Split('\n').Where(l => l.StartsWith("agentperimeter_policy_reloads_total{result=\"rejected\"}", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Sum();

    [Fact]
    public async Task HalfWrittenFiles_UnderLoad_ChangeNothing_AndTheNextValidEditAppliesWhole()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("explorer", "exploration");
        var routesPath = Path.Combine(gw.ConfigDir, "routes.json");
        var policyPath = Path.Combine(gw.ConfigDir, "perimeter.json");
        var routes = await File.ReadAllTextAsync(routesPath);
        var policy = await File.ReadAllTextAsync(policyPath);

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int succeeded = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await gw.GetAsync("/api/public/readme", token);
                if (response.StatusCode == HttpStatusCode.OK)
                    Interlocked.Increment(ref succeeded);
                else
                    failures.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        })).ToArray();

        // Each file caught half-written: refused whole, the running routes and policy kept.
        await File.WriteAllTextAsync(routesPath, routes[..(routes.Length / 2)]);
        await Eventually.UntilAsync(async () => Rejected(await gw.MetricsAsync()) >= 1, TimeSpan.FromSeconds(10), "the half routes.json was refused");
        await Task.Delay(500);
        await File.WriteAllTextAsync(policyPath, policy[..(policy.Length / 2)]);
        await Eventually.UntilAsync(async () => Rejected(await gw.MetricsAsync()) >= 2, TimeSpan.FromSeconds(10), "the half perimeter.json was refused");
        await Task.Delay(500);

        // The next valid edit (a new route and a rule for it) applies, routes and policy together.
        await File.WriteAllTextAsync(routesPath, routes.Replace(
            "\"other\": { \"ClusterId\": \"up\", \"Match\": { \"Path\": \"/other/{**rest}\" } }",
            "\"other\": { \"ClusterId\": \"up\", \"Match\": { \"Path\": \"/other/{**rest}\" } }, \"extra\": { \"ClusterId\": \"up\", \"Match\": { \"Path\": \"/extra/{**rest}\" } }",
            StringComparison.Ordinal));
        await File.WriteAllTextAsync(policyPath, policy.Replace(
            """{ "Id": "explore-public", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/public/**" ] }""",
            """{ "Id": "explore-public", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/public/**" ] }, { "Id": "explore-extra", "Route": "extra", "Methods": [ "GET" ], "Paths": [ "/extra/**" ] }""",
            StringComparison.Ordinal));
        await Eventually.UntilAsync(async () => (await gw.GetAsync("/extra/x", token)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(10),
            "the valid edit applied", () => gw.LogText());
        await Task.Delay(300);
        stop.Cancel();
        await Task.WhenAll(load);

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)));
        Assert.True(succeeded > 20, $"only {succeeded} requests ran");
        var refused = gw.OperatorRecords().Where(r => r.GetProperty("event").GetString() == "policy_reload_refused").ToList();
        Assert.True(refused.Count >= 2, $"{refused.Count} refused reloads recorded");
        Assert.Contains(refused, r => r.GetProperty("first_error").GetString()!.Contains("routes.json: line", StringComparison.Ordinal));
        // While both files were half-written, the refusal named both (every error is logged).
        var log = gw.LogText();
        Assert.Contains("routes.json: line", log);
        Assert.Contains("perimeter.json: line", log);
        Assert.Contains(gw.OperatorRecords(), r => r.GetProperty("event").GetString() == "policy_reload_applied" && r.GetProperty("routes_changed").GetString() == "true");
    }

    [Fact]
    public async Task AnInvalidRoutesEdit_IsRefused_AndTheRouteTableKept()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("explorer", "exploration");
        var routesPath = Path.Combine(gw.ConfigDir, "routes.json");
        var routes = await File.ReadAllTextAsync(routesPath);

        // Valid JSON, but the api route now names a cluster that does not exist (and a key YARP does not read).
        await File.WriteAllTextAsync(routesPath, routes.Replace("\"api\": { \"ClusterId\": \"up\"", "\"api\": { \"ClusterId\": \"nowhere\", \"Mach\": {}", StringComparison.Ordinal));
        await Eventually.UntilAsync(async () => Rejected(await gw.MetricsAsync()) >= 1, TimeSpan.FromSeconds(10), "the invalid routes.json was refused");

        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/public/readme", token)).StatusCode);
        var log = gw.LogText();
        Assert.Contains("cluster 'nowhere' is not defined", log);
        Assert.Contains("ReverseProxy:Routes:api:Mach", log);
    }
}
