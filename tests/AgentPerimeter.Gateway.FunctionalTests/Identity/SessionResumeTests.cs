using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Identity;

/// <summary>A harness resuming a session asks for a new token of the same session: only its owner may, and never a revoked one.</summary>
public class SessionResumeTests
{
    [Fact]
    public async Task ANewTokenForAnEarlierSession_IsForItsAgentAndWorkTypeOnly_AndNeverForARevokedSession()
    {
        await using var gateway = await TestGateway.StartWithUpstreamAsync();
        var first = await gateway.Admin.PostAsJsonAsync("admin/sessions", new { agent = "ci-bot", workType = "build" });
        var sessionId = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("session_id").GetString()!;

        var resumed = await gateway.Admin.PostAsJsonAsync("admin/sessions", new { agent = "ci-bot", workType = "build", sessionId });
        Assert.Equal(HttpStatusCode.Created, resumed.StatusCode);
        var again = JsonDocument.Parse(await resumed.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(sessionId, again.GetProperty("session_id").GetString());
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/api/repos", again.GetProperty("token").GetString())).StatusCode);

        var hijack = await gateway.Admin.PostAsJsonAsync("admin/sessions", new { agent = "other-bot", workType = "build", sessionId });
        Assert.Equal(HttpStatusCode.BadRequest, hijack.StatusCode);
        Assert.Contains("belongs to another agent or work type", await hijack.Content.ReadAsStringAsync());
        var malformed = await gateway.Admin.PostAsJsonAsync("admin/sessions", new { agent = "ci-bot", workType = "build", sessionId = sessionId + "\n" });
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        (await gateway.Admin.PostAsync($"admin/sessions/{sessionId}/revoke", null)).EnsureSuccessStatusCode();
        var revoked = await gateway.Admin.PostAsJsonAsync("admin/sessions", new { agent = "ci-bot", workType = "build", sessionId });
        Assert.Equal(HttpStatusCode.Forbidden, revoked.StatusCode);
        Assert.Contains("session_revoked", await revoked.Content.ReadAsStringAsync());
    }
}
