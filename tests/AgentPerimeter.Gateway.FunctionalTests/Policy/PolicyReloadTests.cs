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
        await Eventually.UntilAsync(async () => (await gw.MetricsAsync()).Contains("agentperimeter_policy_reloads_total{result=\"rejected\"}"),
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
}
