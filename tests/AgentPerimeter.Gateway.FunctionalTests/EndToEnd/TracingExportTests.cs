using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.EndToEnd;

/// <summary>The gateway process with OTEL_EXPORTER_OTLP_ENDPOINT set exports its spans over OTLP, in the caller's trace.</summary>
public sealed class TracingExportTests
{
    [Fact]
    public async Task Spans_AreExportedOverOtlp_InTheTraceTheCallerSentInMeta()
    {
        await using var server = await TestMcpServer.StartAsync(serveModernClients: true);
        using var collector = WireMock.Server.WireMockServer.Start();
        collector.Given(WireMock.RequestBuilders.Request.Create().WithPath("/v1/traces").UsingPost())
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(200));
        var dir = Directory.CreateTempSubdirectory("perimeter-otlp-").FullName;
        var args = TestGateway.PrepareConfig(dir, server.Url, McpPolicies.Policy, McpPolicies.Routes(server.Url)).Where(a => a != "--Gateway:Logging:Console=false");
        using var gateway = ChildProcess.StartWithEnvironment(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"), args,
            [("OTEL_EXPORTER_OTLP_ENDPOINT", collector.Url!), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"), ("OTEL_BSP_SCHEDULE_DELAY", "200")]);
        await gateway.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
        var m = Regex.Match(gateway.Output, "\"AgentUri\":\"(?<agent>[^\"]+)\",\"AdminUri\":\"(?<admin>[^\"]+)\"");
        using var admin = new HttpClient { BaseAddress = new Uri(m.Groups["admin"].Value) };
        using var agent = new HttpClient { BaseAddress = new Uri(m.Groups["agent"].Value) };
        var token = (await (await admin.PostAsync("admin/sessions", new StringContent("""{"agent":"traced-agent","workType":"exploration"}""", Encoding.UTF8, "application/json")))
            .Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("token").GetString();
        const string trace = "5af7651916cd43dd8448eb211c80319d";

        using var call = new HttpRequestMessage(HttpMethod.Post, "mcp")
        {
            Content = new StringContent("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"search_docs\",\"arguments\":{\"text\":\"otlp\"},\"_meta\":{"
                + "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"t\",\"version\":\"1\"},\"traceparent\":\"00-" + trace + "-b7ad6b7169203331-01\"}}}", Encoding.UTF8, "application/json"),
        };
        call.Headers.Authorization = new("Bearer", token);
        call.Headers.Accept.ParseAdd("application/json, text/event-stream");
        call.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        call.Headers.Add("Mcp-Method", "tools/call");
        call.Headers.Add("Mcp-Name", "search_docs");
        using var answer = await agent.SendAsync(call);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());

        var traceBytes = Convert.FromHexString(trace);
        string Exported() => string.Concat(collector.LogEntries.Select(e => Encoding.UTF8.GetString(e.RequestMessage!.BodyAsBytes ?? [])));
        bool HasTrace() => collector.LogEntries.Any(e => (e.RequestMessage!.BodyAsBytes ?? []).AsSpan().IndexOf(traceBytes) >= 0);
        await Eventually.UntilAsync(() => HasTrace() && Exported().Contains("tools/call search_docs"), TimeSpan.FromSeconds(20), "the span reached the collector", Exported);
        Assert.Contains("agentperimeter-gateway", Exported());
        Assert.Contains("agentperimeter.decision", Exported());
        gateway.Terminate();
        Assert.Equal(0, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }
}
