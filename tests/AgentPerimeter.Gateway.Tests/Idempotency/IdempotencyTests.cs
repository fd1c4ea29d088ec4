using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Gateway.Tests.Harness;
using AgentPerimeter.Gateway.Tests.Infrastructure;
using AgentPerimeter.Gateway.Tests.Mcp;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace AgentPerimeter.Gateway.Tests.Idempotency;

/// <summary>An idempotency key makes a side-effecting action execute at most once; a replay gets the first outcome.</summary>
public class IdempotencyTests
{
    private const string Policy = """
        {
          "Perimeter": {
            "WorkTypes": {
              "build": { "Rules": [ { "Id": "build-start", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/builds" ] } ] }
            }
          }
        }
        """;

    private static async Task<HttpResponseMessage> PostAsync(TestGateway gateway, string token, string key, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/builds") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Idempotency-Key", key);
        return await gateway.Agent.SendAsync(request);
    }

    [Fact]
    public async Task HttpIdempotencyKey_ExecutesOnce_AndReplaysTheFirstOutcome()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Url, Policy);
        var token = await gateway.TokenAsync("ci-bot", "build");

        var first = await PostAsync(gateway, token, "build-42", """{"repo":"payments-service"}""");
        var again = await PostAsync(gateway, token, "build-42", """{"repo":"payments-service"}""");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Single(upstream.Received);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        var replay = gateway.AuditFor(again);
        Assert.True(replay.GetProperty("replay").GetBoolean());
        Assert.Equal("idempotent_replay", replay.GetProperty("code").GetString());
        Assert.Equal("build-42", replay.GetProperty("idempotency_key").GetString());
        Assert.Equal(JsonValueKind.Null, replay.GetProperty("upstream_status").ValueKind);

        // The same key for another action is refused, not replayed and not executed.
        var other = await PostAsync(gateway, token, "build-42", """{"repo":"web-frontend"}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Contains("idempotency_key_reused", await other.Content.ReadAsStringAsync());
        // Another agent's identical key is its own.
        var otherAgent = await PostAsync(gateway, await gateway.TokenAsync("other-bot", "build"), "build-42", """{"repo":"payments-service"}""");
        Assert.Equal(HttpStatusCode.OK, otherAgent.StatusCode);
        Assert.False(otherAgent.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, upstream.Received.Count);
    }

    [Fact]
    public async Task McpIdempotencyKey_InMeta_ExecutesTheToolOnce_AndTheReplayAnswersTheNewRequest()
    {
        await using var setup = await McpSetup.StartAsync();
        await using var client = await setup.ClientAsync("agent-1", "build");
        var options = new RequestOptions { Meta = new JsonObject { [HarnessSetupKeys.Idempotency] = "deploy-once" } };

        var first = await client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "staging" }, options: options);
        var second = await client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "staging" }, options: options);

        Assert.Equal(Text(first), Text(second));
        Assert.Contains("deploy ran", Text(second));
        Assert.Single(setup.Server.ToolCalls, c => c == "tools/call:deploy");
        var records = setup.Gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.GetProperty("target").GetString() == "deploy").ToList();
        Assert.Equal(2, records.Count);
        Assert.True(records[1].GetProperty("replay").GetBoolean());

        var reused = await Assert.ThrowsAsync<McpProtocolException>(() =>
            client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "production" }, options: options).AsTask());
        Assert.Contains("idempotency_key_reused", reused.Message);
        Assert.Single(setup.Server.ToolCalls, c => c == "tools/call:deploy");
    }

    [Fact]
    public async Task TheInMemoryStore_KeepsItsRecordedAnswersWithinABudget_AndStillNeverExecutesTwice()
    {
        var store = new AgentPerimeter.Gateway.Idempotency.InMemoryIdempotencyStore(TimeProvider.System, maxRecordedBytes: 100);
        var window = TimeSpan.FromHours(1);
        Assert.Equal(AgentPerimeter.Gateway.Idempotency.IdempotencyState.Started, (await store.BeginAsync("k1", "fp", "c1", TimeSpan.FromMinutes(5), window)).State);
        await store.CompleteAsync("k1", "fp", new AgentPerimeter.Gateway.Idempotency.StoredOutcome { Kind = "http", Status = 200, Body = new byte[80] }, window);
        Assert.Equal(AgentPerimeter.Gateway.Idempotency.IdempotencyState.Started, (await store.BeginAsync("k2", "fp", "c2", TimeSpan.FromMinutes(5), window)).State);
        await store.CompleteAsync("k2", "fp", new AgentPerimeter.Gateway.Idempotency.StoredOutcome { Kind = "http", Status = 200, Body = new byte[80] }, window);

        var first = await store.BeginAsync("k1", "fp", "c3", TimeSpan.FromMinutes(5), window);
        var second = await store.BeginAsync("k2", "fp", "c4", TimeSpan.FromMinutes(5), window);
        Assert.Equal("http", first.Outcome!.Kind);          // within the budget: replayed whole
        Assert.Equal(AgentPerimeter.Gateway.Idempotency.IdempotencyState.Completed, second.State);
        Assert.Equal("unknown", second.Outcome!.Kind);      // over it: not replayable, but not executed again
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
}

/// <summary>The <c>_meta</c> keys, as the harness sends them.</summary>
internal static class HarnessSetupKeys
{
    public const string Idempotency = AgentPerimeter.Protocol.PerimeterMeta.IdempotencyKey;
    public const string Approval = AgentPerimeter.Protocol.PerimeterMeta.ApprovalId;
}
