using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Metrics;

/// <summary>
/// A real Prometheus scrapes a real gateway, and every query of the shipped Grafana dashboard is
/// evaluated through Prometheus's HTTP API: each must return data.
/// </summary>
public class PrometheusDashboardTests
{
    [Fact]
    public async Task EveryDashboardPanel_ReturnsData_FromARealPrometheusScrape()
    {
        var prometheus = FindPrometheus();
        await using var upstream = await TestUpstream.StartAsync();
        // A tunnel (with no connector) and a rule that needs a human, so their panels have data too.
        using var tunnels = new TunnelSetup("dash");
        var routes = TestPolicies.Routes(upstream.Url)
            .Replace("\"other\": { \"ClusterId\": \"up\"", "\"other\": { \"ClusterId\": \"tun\"")
            .Replace("\"Clusters\": {", "\"Clusters\": { \"tun\": { \"Destinations\": { \"t1\": { \"Address\": \"tunnel://dash\" } } },");
        const string buildStart = """{ "Id": "build-start", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/builds" ] },""";
        var policy = TestPolicies.Default.Replace(buildStart, buildStart + """
            { "Id": "build-other", "Route": "other", "Methods": [ "GET" ], "Paths": [ "/other/**" ] },
            { "Id": "build-release", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/releases" ], "Approval": "required" },
            """);
        Assert.Contains("build-release", policy);
        Assert.Contains("tunnel://dash", routes);
        await using var gw = await TestGateway.StartAsync(upstream.Url, policy, routes, tunnels.GatewayArgs());
        var build = await gw.TokenAsync("ci-bot", "build");
        var explorer = await gw.TokenAsync("explorer", "exploration");

        var dir = Directory.CreateTempSubdirectory("perimeter-prom-").FullName;
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: agentperimeter
                static_configs:
                  - targets: ["{gw.AdminUri.Authority}"]
            """);
        using var prom = ChildProcess.StartExecutable(prometheus,
        [
            $"--config.file={Path.Combine(dir, "prometheus.yml")}",
            $"--storage.tsdb.path={Path.Combine(dir, "tsdb")}",
            "--web.listen-address=127.0.0.1:0",
        ]);
        // Port 0: Prometheus logs the address it really listens on.
        await prom.WaitForOutputAsync("msg=\"Listening on\"", TimeSpan.FromSeconds(60));
        var address = Regex.Match(prom.Output, "msg=\"Listening on\" address=(?<address>\\S+)").Groups["address"].Value;
        using var api = new HttpClient { BaseAddress = new Uri($"http://{address}/") };

        async Task TrafficAsync()
        {
            await gw.GetAsync("/api/repos", build);                 // allow
            await gw.GetAsync("/api/shadow/x", build);              // would_deny (ungoverned)
            await gw.GetAsync("/api/repos", explorer);              // deny
            await gw.GetAsync("/api/repos", null);                  // unauthenticated
            await gw.GetAsync("/nowhere", build);                   // not_found
            await gw.GetAsync("/other/x", build);                   // tunnel with no connector: 503, counted
            await gw.SendAsync(HttpMethod.Post, "/api/releases", build, new StringContent("{}")); // held for approval
        }

        // Two rounds of traffic, each seen by a scrape, so every rate() has an increase to show.
        await TrafficAsync();
        await WaitForAsync(api, "sum(agentperimeter_actions_total)", v => v >= 7, prom);
        await TrafficAsync();
        await WaitForAsync(api, "sum(agentperimeter_actions_total)", v => v >= 14, prom);

        var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "dashboards", "agentperimeter.json")));
        var panels = dashboard.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal("Governed-action percentage", panels[0].GetProperty("title").GetString());
        // Every query is scoped by the dashboard's job and instance variables (All: ".+").
        Assert.Equal("sum(rate(agentperimeter_actions_total{job=~\"$job\",instance=~\"$instance\",governed=\"true\"}[5m])) / sum(rate(agentperimeter_actions_total{job=~\"$job\",instance=~\"$instance\"}[5m]))",
            panels[0].GetProperty("targets")[0].GetProperty("expr").GetString());
        var variables = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToList();
        Assert.Contains("job", variables);
        Assert.Contains("instance", variables);

        int queries = 0;
        foreach (var panel in panels)
        {
            if (!panel.TryGetProperty("targets", out var targets))
                continue;
            foreach (var target in targets.EnumerateArray())
            {
                var expr = target.GetProperty("expr").GetString()!;
                Assert.Contains("$job", expr);
                var result = await QueryAsync(api, expr.Replace("$job", ".+", StringComparison.Ordinal).Replace("$instance", ".+", StringComparison.Ordinal));
                Assert.True(result.GetArrayLength() > 0, $"panel '{panel.GetProperty("title").GetString()}' query returned no data: {expr}");
                queries++;
            }
        }
        Assert.True(queries >= 6, $"only {queries} queries in the dashboard");

        // The headline is honest: of each round of 7 actions only the report-only one is ungoverned (a
        // call held for approval, and one refused for want of a tunnel connector, were decided by the perimeter).
        var ratio = double.Parse((await QueryAsync(api, "sum(agentperimeter_actions_total{governed=\"true\"}) / sum(agentperimeter_actions_total)"))[0]
            .GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(6.0 / 7, ratio, 3);
    }

    private static async Task<JsonElement> QueryAsync(HttpClient api, string expr)
    {
        var json = await api.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(expr));
        var doc = JsonDocument.Parse(json).RootElement;
        Assert.Equal("success", doc.GetProperty("status").GetString());
        return doc.GetProperty("data").GetProperty("result").Clone();
    }

    private static async Task WaitForAsync(HttpClient api, string expr, Func<double, bool> done, ChildProcess prom)
    {
        // Prometheus scrapes on its own schedule (1 s here): poll its API until the scrape has landed.
        await Eventually.UntilAsync(async () =>
        {
            var result = await QueryAsync(api, expr);
            return result.GetArrayLength() > 0 && done(double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        }, TimeSpan.FromSeconds(30), $"Prometheus showed {expr}", () => "Its output:\n" + prom.Output);
    }

    private static string FindPrometheus()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, "prometheus");
            if (File.Exists(candidate))
                return candidate;
        }
        Assert.Fail("prometheus is not installed. Run the test suite with tests/run.sh, which installs it (Debian package 'prometheus').");
        return "";
    }
}
