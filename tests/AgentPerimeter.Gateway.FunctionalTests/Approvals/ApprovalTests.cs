using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.FunctionalTests.Harness;
using AgentPerimeter.Gateway.FunctionalTests.Idempotency;
using AgentPerimeter.Gateway.FunctionalTests.Mcp;
using ModelContextProtocol;

namespace AgentPerimeter.Gateway.FunctionalTests.Approvals;

/// <summary>Approvals at the gateway: held, decided by a human, single use, bound to the session, tool and arguments.</summary>
public class ApprovalTests
{
    [Fact]
    public async Task AnApproval_IsSingleUse_AndCannotBeReusedForOtherArguments()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var token = await setup.Gateway.TokenAsync("release-bot", "production");
        await using var client = await McpSetup.ConnectAsync(new Uri(setup.Gateway.AgentUri, "mcp"), token);
        var staging = new Dictionary<string, object?> { ["env"] = "staging" };

        var held = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", staging).AsTask());
        Assert.Contains("approval_required", held.Message);
        var id = Regex.Match(held.Message, "apr_[0-9a-f]{32}").Value;
        Assert.Equal(0, setup.CallsOf("deploy"));

        RequestOptions With(string approval) => new() { Meta = new JsonObject { [HarnessSetupKeys.Approval] = approval } };
        var pending = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", staging, options: With(id)).AsTask());
        Assert.Contains("approval_pending", pending.Message);

        // A session may ask about its own approval on the agent listener, and only about its own.
        var own = await setup.Gateway.GetAsync($"/.perimeter/approvals/{id}", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, own.StatusCode);
        Assert.Equal("pending", JsonDocument.Parse(await own.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        var stranger = await setup.Gateway.GetAsync($"/.perimeter/approvals/{id}", await setup.Gateway.TokenAsync("release-bot", "production"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, stranger.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await setup.Gateway.GetAsync($"/.perimeter/approvals/{id}", null)).StatusCode);

        var approved = await setup.Gateway.Admin.PostAsync($"admin/approvals/{id}/approve", null);
        Assert.True(approved.IsSuccessStatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, (await setup.Gateway.Admin.PostAsync($"admin/approvals/{id}/deny", null)).StatusCode);

        var production = new Dictionary<string, object?> { ["env"] = "production" };
        var mismatch = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", production, options: With(id)).AsTask());
        Assert.Contains("approval_mismatch", mismatch.Message);
        Assert.Equal(0, setup.CallsOf("deploy"));

        // Another session of the same agent cannot use it either.
        await using (var other = await McpSetup.ConnectAsync(new Uri(setup.Gateway.AgentUri, "mcp"), await setup.Gateway.TokenAsync("release-bot", "production")))
        {
            var foreign = await Assert.ThrowsAsync<McpProtocolException>(() => other.CallToolAsync("deploy", staging, options: With(id)).AsTask());
            Assert.Contains("approval_mismatch", foreign.Message);
        }

        var ok = await client.CallToolAsync("deploy", staging, options: With(id));
        Assert.Equal(1, setup.CallsOf("deploy"));
        var used = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", staging, options: With(id)).AsTask());
        Assert.Contains("approval_used", used.Message);
        Assert.Equal(1, setup.CallsOf("deploy"));

        var state = JsonDocument.Parse(await setup.Gateway.Admin.GetStringAsync($"admin/approvals/{id}")).RootElement;
        Assert.Equal("used", state.GetProperty("status").GetString());
        Assert.StartsWith("act_", state.GetProperty("used_by_action").GetString());
        var records = setup.Gateway.AuditRecords().Where(r => r.TryGetProperty("approval_id", out var a) && a.GetString() == id).Select(r => r.GetProperty("code").GetString()).ToList();
        Assert.Equal(["approval_required", "approval_pending", "approval_status", "approval_mismatch", "approval_mismatch", "allowed", "approval_used"], records);
        Assert.Contains("agentperimeter_actions_total{work_type=\"production\",route=\"tools-mcp\",kind=\"mcp\",decision=\"approval_required\",governed=\"true\"}", await setup.Gateway.MetricsAsync());
    }

    [Fact]
    public async Task ACallTooLargeToShowInFull_IsRefused_NotHeldForABlindApproval()
    {
        await using var setup = await HarnessSetup.StartAsync();
        var token = await setup.Gateway.TokenAsync("release-bot", "production");
        await using var client = await McpSetup.ConnectAsync(new Uri(setup.Gateway.AgentUri, "mcp"), token);

        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy",
            new Dictionary<string, object?> { ["env"] = "staging", ["notes"] = new string('x', 20_000) }).AsTask());

        Assert.Contains("approval_too_large", refused.Message);
        Assert.Empty(JsonDocument.Parse(await setup.Gateway.Admin.GetStringAsync("admin/approvals")).RootElement.EnumerateArray());
        Assert.Equal(0, setup.CallsOf("deploy"));
    }
}
