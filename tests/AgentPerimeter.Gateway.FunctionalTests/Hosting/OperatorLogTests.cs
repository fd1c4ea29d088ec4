using System.Net;
using System.Text.Json;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Hosting;

/// <summary>The log as an operator reads it: sentences besides templates, refusals at Information, an optional access log, proxy errors with their action.</summary>
public sealed class OperatorLogTests
{
    private static List<JsonElement> Lines(TestGateway gw) =>
        [.. gw.LogText().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    private static string Level(JsonElement line) => line.TryGetProperty("@l", out var l) ? l.GetString()! : "Information";

    [Fact]
    public async Task WithTheAccessLog_EachActionIsOneLine_WithItsRenderedSentence()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync(extraArgs: ["--Gateway:Logging:AccessLog=true"]);
        var token = await gw.TokenAsync("ci-bot", "build");
        using var allowed = await gw.GetAsync("/api/repos", token);
        var id = allowed.Headers.GetValues("X-Perimeter-Action-Id").Single();

        var line = Assert.Single(Lines(gw), l => l.GetProperty("@mt").GetString()!.StartsWith("Action {ActionId} agent=", StringComparison.Ordinal)
            && l.GetProperty("ActionId").GetString() == id);
        Assert.Equal("Information", Level(line));
        var rendered = line.GetProperty("@m").GetString()!;
        Assert.Contains("agent=\"ci-bot\"", rendered);
        Assert.Contains("decision=\"allow\"", rendered);
        Assert.Contains("outcome=\"forwarded\"", rendered);
        Assert.Contains("status=200", rendered);
        Assert.Equal("api", line.GetProperty("Route").GetString());
    }

    [Fact]
    public async Task WithoutIt_RefusalsAreLoggedAtInformation_AndAllowedActionsAreNot()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var token = await gw.TokenAsync("explorer", "exploration");
        using var allowed = await gw.GetAsync("/api/public/readme", token);
        using var denied = await gw.SendAsync(HttpMethod.Delete, "/api/repos", token);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        var deniedId = denied.Headers.GetValues("X-Perimeter-Action-Id").Single();
        var allowedId = allowed.Headers.GetValues("X-Perimeter-Action-Id").Single();

        var lines = Lines(gw);
        var refused = Assert.Single(lines, l => l.TryGetProperty("ActionId", out var a) && a.GetString() == deniedId && l.GetProperty("@mt").GetString()!.StartsWith("Refused", StringComparison.Ordinal));
        Assert.Equal("Information", Level(refused));
        Assert.Contains("policy_denied", refused.GetProperty("@m").GetString());
        Assert.DoesNotContain(lines, l => l.TryGetProperty("ActionId", out var a) && a.GetString() == allowedId && l.GetProperty("@mt").GetString()!.StartsWith("Action {ActionId} agent=", StringComparison.Ordinal));
        // Nothing about these two actions above Information (a refusal is the perimeter working, not a fault).
        Assert.DoesNotContain(lines, l => l.TryGetProperty("ActionId", out _) && Level(l) is "Warning" or "Error" or "Fatal");
    }

    [Fact]
    public async Task AnUpstreamThatCannotBeReached_LogsWithTheActionIdAndRoute()
    {
        await using var gw = await TestGateway.StartAsync("http://127.0.0.1:1/");
        var token = await gw.TokenAsync("ci-bot", "build");
        using var failed = await gw.GetAsync("/api/repos", token);
        var id = failed.Headers.GetValues("X-Perimeter-Action-Id").Single();

        Assert.Contains(Lines(gw), l => l.TryGetProperty("ActionId", out var a) && a.GetString() == id
            && l.TryGetProperty("Route", out var r) && r.GetString() == "api" && Level(l) is "Warning" or "Error" or "Information"
            && !l.GetProperty("@mt").GetString()!.StartsWith("Refused", StringComparison.Ordinal));
    }
}
