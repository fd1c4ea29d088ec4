using System.Net;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Proxy;

/// <summary>
/// Long calls: a cluster with no activity timeout of its own gets <c>Gateway:UpstreamActivityTimeout</c>
/// (10 minutes by default, not YARP's 100 s); a cluster's own <c>HttpRequest.ActivityTimeout</c> wins.
/// </summary>
public sealed class UpstreamActivityTimeoutTests
{
    private static string Routes(string upstream, string? clusterTimeout) => $$"""
        {
          "ReverseProxy": {
            "Routes": { "api": { "ClusterId": "up", "Match": { "Path": "/api/{**rest}" } } },
            "Clusters": {
              "up": { {{(clusterTimeout is null ? "" : $"\"HttpRequest\": {{ \"ActivityTimeout\": \"{clusterTimeout}\" }},")}}
                      "Destinations": { "d1": { "Address": "{{upstream.TrimEnd('/')}}/" } } }
            }
          }
        }
        """;

    private static async Task<HttpResponseMessage> SlowCallAsync(TestGateway gw, int delayMs)
    {
        var token = await gw.TokenAsync("builder", "build");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/repos/slow-build");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Add("X-Test-Delay-Ms", delayMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return await gw.Agent.SendAsync(request);
    }

    [Fact]
    public async Task AClusterWithoutItsOwnTimeout_GetsTheGatewayDefault()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gw = await TestGateway.StartAsync(upstream.Url, routesJson: Routes(upstream.Url, null),
            extraArgs: ["--Gateway:UpstreamActivityTimeout=00:00:01"]);

        using var response = await SlowCallAsync(gw, 3000);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("upstream_timeout", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AClustersOwnActivityTimeout_Wins()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var gw = await TestGateway.StartAsync(upstream.Url, routesJson: Routes(upstream.Url, "00:00:30"),
            extraArgs: ["--Gateway:UpstreamActivityTimeout=00:00:01"]);

        using var response = await SlowCallAsync(gw, 3000);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void TheDefault_IsTenMinutes()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), new AgentPerimeter.Gateway.Hosting.GatewayOptions().UpstreamActivityTimeout);
    }
}
