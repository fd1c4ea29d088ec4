using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.EndToEnd;

/// <summary>
/// SIGTERM to a running gateway process: readiness fails at once while it keeps serving for the drain
/// delay, an action in flight finishes and is recorded, and the process exits 0.
/// </summary>
public sealed class GracefulShutdownTests
{
    [Fact]
    public async Task OnSigterm_ReadinessFails_InFlightActionsFinish_AndTheProcessExitsCleanly()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var dir = Directory.CreateTempSubdirectory("perimeter-drain-").FullName;
        var args = TestGateway.PrepareConfig(dir, upstream.Url).Where(a => a != "--Gateway:Logging:Console=false")
            .Append("--Gateway:ShutdownDrainDelay=00:00:02");
        using var gateway = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"), args);
        await gateway.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
        var m = Regex.Match(gateway.Output, "\"AgentUri\":\"(?<agent>[^\"]+)\",\"AdminUri\":\"(?<admin>[^\"]+)\"");
        using var admin = new HttpClient { BaseAddress = new Uri(m.Groups["admin"].Value) };
        using var agent = new HttpClient { BaseAddress = new Uri(m.Groups["agent"].Value) };
        var token = (await (await admin.PostAsync("admin/sessions", new StringContent("""{"agent":"ci-bot","workType":"build"}""", System.Text.Encoding.UTF8, "application/json")))
            .Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("readyz")).StatusCode);

        // A slow action in flight (the upstream works for 3 s) when the orchestrator stops the gateway.
        using var slow = new HttpRequestMessage(HttpMethod.Get, "/api/repos/long-build");
        slow.Headers.Authorization = new("Bearer", token);
        slow.Headers.Add("X-Test-Delay-Ms", "3000");
        var inFlight = agent.SendAsync(slow);
        await Eventually.UntilAsync(() => upstream.Received.Any(r => r.Path.EndsWith("long-build", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the slow action reached the upstream");
        gateway.Terminate();

        // Lame duck: still serving (the admin listener answers), but no longer ready — as soon as the
        // signal is handled, well within the 2 s drain.
        string readiness = "";
        await Eventually.UntilAsync(async () =>
        {
            using var answer = await admin.GetAsync("readyz");
            readiness = await answer.Content.ReadAsStringAsync();
            return answer.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, TimeSpan.FromSeconds(1.5), "readiness failed while the gateway still served", () => readiness);
        Assert.Contains("stopping", readiness);

        using var finished = await inFlight;
        Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        // The action's outcome is in the audit log: nothing was cut off by the stop.
        var audit = File.ReadAllText(Path.Combine(dir, "data", "audit.jsonl"));
        Assert.Contains("\"path\":\"/api/repos/long-build\"", audit);
        Assert.Contains("\"phase\":\"outcome\"", audit);
    }
}
