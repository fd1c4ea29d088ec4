using System.Net;
using System.Net.Http.Headers;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// One request to each target before any load, exactly as the load generators send it: wrk and hey only count
/// statuses, so this is where a target that answers the wrong thing (a refusal, a JSON-RPC error, a limit that does
/// not apply) stops the run before it measures anything.
/// </summary>
internal static class Preflight
{
    public static async Task<PreflightResult> RunAsync(HttpClient http, BenchServers servers, BenchTargets targets, CancellationToken ct)
    {
        // Redis's command counts and the Redis gateway's decisions from here to the end: its preflight and every load.
        var redisCommandsBefore = await RedisBench.CommandStatsAsync(servers.RedisPort, ct).ConfigureAwait(false);
        var redisDecisionsBefore = (await GatewayMetrics.ScrapeAsync(http, servers.RedisGateway.Admin, ct).ConfigureAwait(false)).RateLimitDecisionCount;
        foreach (var target in targets.Http)
            await HttpAsync(http, target, target.Token ?? servers.Gateway.Token, ct).ConfigureAwait(false);
        await CheckRateLimitedAsync(http, servers, redisCommandsBefore, ct).ConfigureAwait(false);
        await CheckAuditDurabilityAsync(http, servers, ct).ConfigureAwait(false);

        var contentType = await McpAsync(http, targets.Mcp, servers.Gateway.Token, ct).ConfigureAwait(false);
        var audit = McpAuditCheck.Verify(servers.AuditLog);
        BenchLog.Write($"MCP preflight: tools/call answered as {contentType} by every MCP target; audit: {audit}");
        await CheckTunnelForwardedAsync(http, servers, ct).ConfigureAwait(false);
        var connections = await TunnelBench.ConnectionsAsync(http, servers.Gateway.Admin, ct).ConfigureAwait(false);
        var egressAudit = await EgressPreflight.RunAsync(servers, ct).ConfigureAwait(false);
        return new PreflightResult(redisCommandsBefore, redisDecisionsBefore, contentType, audit, connections, egressAudit);
    }

    private static async Task HttpAsync(HttpClient http, Target target, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, target.Url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new InvalidOperationException($"{target.Name}: GET {target.Url.PathAndQuery} answered {(int)response.StatusCode}, expected 200: {body}");
        }
    }

    /// <summary>Both limits gateways must have checked their limits for their preflight request.</summary>
    private static async Task CheckRateLimitedAsync(HttpClient http, BenchServers servers, CommandStats redisCommandsBefore, CancellationToken ct)
    {
        foreach (var gateway in new[] { servers.MemoryGateway, servers.RedisGateway })
        {
            var preflight = await GatewayMetrics.ScrapeAsync(http, gateway.Admin, ct).ConfigureAwait(false);
            if (preflight.RateLimitAllowed < 1)
                throw new InvalidOperationException($"{gateway.Process.Name}: the preflight request was not rate-limit checked (agentperimeter_ratelimit_decisions_total: "
                    + $"{string.Join(", ", preflight.RateLimitDecisions.Select(kv => $"{kv.Key} {kv.Value}"))}); the benchmark's limits do not apply to GET /api/repos");
        }
        var redisPreflight = (await RedisBench.CommandStatsAsync(servers.RedisPort, ct).ConfigureAwait(false)).Since(redisCommandsBefore);
        BenchLog.Write($"rate-limit preflight: both limits gateways checked their limits; redis ran {redisPreflight.ScriptCalls} script call(s) for the one request "
            + $"({string.Join(", ", redisPreflight.Calls.Select(kv => $"{kv.Key} {kv.Value}"))})");
    }

    /// <summary>
    /// The main gateway must run in the default audit durability, Fsync, and the write-durability gateway in Write, as each
    /// one's <c>agentperimeter_audit_durability</c> says: otherwise their comparison measures something else.
    /// </summary>
    private static async Task CheckAuditDurabilityAsync(HttpClient http, BenchServers servers, CancellationToken ct)
    {
        foreach (var (gateway, mode) in new[] { (servers.Gateway, DurabilityBench.Fsync), (servers.WriteGateway, DurabilityBench.Write) })
        {
            var metrics = await GatewayMetrics.ScrapeAsync(http, gateway.Admin, ct).ConfigureAwait(false);
            if (!metrics.AuditDurabilityIs(mode))
                throw new InvalidOperationException($"{gateway.Process.Name}: agentperimeter_audit_durability reports mode {metrics.AuditDurabilityText}, "
                    + $"expected \"{DurabilityBench.MetricLabel(mode)}\" (Gateway:Audit:Durability={mode}); is the gateway build one with that option?");
        }
        BenchLog.Write($"audit durability preflight: {TargetNames.Gateway} runs {DurabilityBench.Fsync}, {TargetNames.WriteDurability} runs {DurabilityBench.Write}");
    }

    /// <summary>Every MCP target must answer the call, and all in the same media type; returns it.</summary>
    private static async Task<string> McpAsync(HttpClient http, IReadOnlyList<Target> targets, string token, CancellationToken ct)
    {
        string? mcpContentType = null;
        foreach (var target in targets)
        {
            var contentType = await McpCallAsync(http, target, token, ct).ConfigureAwait(false);
            if (mcpContentType is not null && contentType != mcpContentType)
                throw new InvalidOperationException($"{target.Name}: answered tools/call as {contentType}, the MCP server as {mcpContentType}");
            mcpContentType = contentType;
        }
        return mcpContentType!;
    }

    /// <summary>
    /// One MCP <c>tools/call</c> of <c>echo</c>, exactly as the load generators send it: 200, and the tool's
    /// result rather than a JSON-RPC error (the gateway refuses MCP calls with 200 and an error). Returns the
    /// response's media type.
    /// </summary>
    private static async Task<string> McpCallAsync(HttpClient http, Target target, string token, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url)
        {
            Content = new StringContent(McpBench.ToolCallBody, new MediaTypeHeaderValue(McpBench.ContentType)),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.TryAddWithoutValidation("Accept", McpBench.Accept);
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var expected = $"{{\"type\":\"text\",\"text\":\"{McpBench.Text}\"}}";
        if (response.StatusCode != HttpStatusCode.OK || !body.Contains(expected, StringComparison.Ordinal)
            || body.Contains("\"error\"", StringComparison.Ordinal) || body.Contains("\"isError\":true", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{target.Name}: POST {target.Url.PathAndQuery} tools/call answered {(int)response.StatusCode}, "
                + $"expected 200 with the echo result {expected}: {body}");
        }
        return response.Content.Headers.ContentType?.MediaType ?? "(no content type)";
    }

    /// <summary>The tunnel target's preflight call must be counted as forwarded through the tunnel.</summary>
    private static async Task CheckTunnelForwardedAsync(HttpClient http, BenchServers servers, CancellationToken ct)
    {
        var tunnelPreflight = (await GatewayMetrics.ScrapeAsync(http, servers.Gateway.Admin, ct).ConfigureAwait(false)).TunnelRequests(TunnelBench.Tunnel);
        if (tunnelPreflight.GetValueOrDefault("forwarded") < 1)
            throw new InvalidOperationException($"the preflight call through the tunnel was not counted as forwarded by agentperimeter_tunnel_requests_total: "
                + GatewayMetrics.Format(tunnelPreflight));
    }
}
