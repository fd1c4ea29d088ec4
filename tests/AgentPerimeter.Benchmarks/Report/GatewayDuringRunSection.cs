using System.Text;
using static AgentPerimeter.Benchmarks.ReportFormat;

namespace AgentPerimeter.Benchmarks;

/// <summary>What the gateways, the MCP server and the tunnel counted during the run, against what the load generators got.</summary>
internal static class GatewayDuringRunSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        var d = v.Data;
        var m = d.Metrics;
        sb.AppendLine("## The gateway during the run");
        sb.AppendLine();
        if (d.GatewayRss is { } g)
            sb.AppendLine($"- RSS: {Mb(g.IdleKb)} after start-up, {Mb(g.MaxUnderLoadKb)} max under load, {Mb(g.LastKb)} at the end, after the egress "
                + $"measurements (not counted as load: with the idle tunnels open it was {Mb(v.Data.Egress.IdleTunnels.RssOpenKb)}, see Sandbox egress)"
                + (d.YarpRss is { } y ? $" (bare YARP: {Mb(y.IdleKb)} after start-up, {Mb(y.MaxUnderLoadKb)} max under load)." : "."));
        sb.AppendLine($"- actions recorded: {m.Actions:N0}, governed: {m.GovernedActions:N0} ("
            + string.Join(", ", m.ActionsByDecision.Select(kv => $"{kv.Key}: {kv.Value:N0}")) + ").");
        sb.AppendLine($"- audit: {m.AuditRecords:N0} records in {m.AuditBatches:N0} fsync'd batches ({m.MeanRecordsPerBatch:F1} records per fsync on average, "
            + $"{m.AuditRecordsPerAction:F2} per action), {m.AuditWriteErrors:N0} write errors, log {d.AuditLogBytes / 1e6:N0} MB.");
        WriteDurability(sb, v);
        Mcp(sb, v);
        Tunnel(sb, v);
        Uploads(sb, v);
        Egress(sb, v);
        RateLimits(sb, v);
        sb.AppendLine();
    }

    private static void WriteDurability(StringBuilder sb, ReportView v)
    {
        var dc = v.Data.Durability;
        var m = dc.WriteMetrics;
        sb.AppendLine($"- audit durability: **{TargetNames.Gateway}** reports mode {v.Data.Metrics.AuditDurabilityText}, **{TargetNames.WriteDurability}** mode "
            + $"{m.AuditDurabilityText}; the latter counted {Counts(m.RouteActions(Servers.HttpRoute))} (kind/decision) on route `{Servers.HttpRoute}` for "
            + $"{v.WriteDurability.Answered + 1:N0} responses (the preflight included), {m.AuditRecords:N0} audit records in {m.AuditBatches:N0} written batches "
            + $"({m.MeanRecordsPerBatch:F1} records per batch, {m.AuditRecordsPerAction:F2} per action), {m.AuditWriteErrors:N0} write errors"
            + (dc.WriteRss is { } rss ? $", RSS {Mb(rss.IdleKb)} after start-up and {Mb(rss.MaxUnderLoadKb)} max under load." : "."));
    }

    private static void Mcp(StringBuilder sb, ReportView v)
    {
        var d = v.Data;
        var m = d.Metrics;
        sb.AppendLine($"- MCP: route `{McpBench.InspectedRoute}` " + Counts(m.RouteActions(McpBench.InspectedRoute)) + " (kind/decision), MCP actions "
            + Counts(m.RouteMcpActions(McpBench.InspectedRoute)) + $" (method/tool/decision), for {v.McpInspected.Answered:N0} responses to the load generators; "
            + $"route `{McpBench.RawRoute}` " + Counts(m.RouteActions(McpBench.RawRoute)) + $" for {v.McpRaw.Answered:N0} responses; "
            + $"the MCP server ran `{McpBench.Tool}` {d.Mcp.EchoCalls:N0} times for {d.McpTargets.Sum(t => t.Answered):N0} MCP responses in all.");
        sb.AppendLine($"- audit records of the MCP preflight calls: {d.Mcp.AuditAfterPreflight}.");
    }

    private static void Tunnel(StringBuilder sb, ReportView v)
    {
        var m = v.Data.Metrics;
        var tc = v.Data.Tunnel;
        sb.AppendLine($"- tunnel `{TunnelBench.Tunnel}`: `agentperimeter_tunnel_requests_total` {Counts(tc.TunnelRequests)} (result) for {tc.TunnelResponses:N0} responses that came "
            + $"through it (the MCP preflight, {v.McpTunnel.Answered:N0} MCP load responses, {v.UploadTunnel.Answered:N0} uploads); route `{TunnelBench.McpRoute}` "
            + Counts(m.RouteActions(TunnelBench.McpRoute)) + " (kind/decision), MCP actions " + Counts(m.RouteMcpActions(TunnelBench.McpRoute)) + " (method/tool/decision); "
            + $"connections open: {tc.ConnectionsAfterPreflight} after the preflight, {tc.ConnectionsAtEnd} at the end"
            + (tc.ConnectorRss is { } c ? $"; connector RSS {Mb(c.IdleKb)} after start-up, {Mb(c.MaxUnderLoadKb)} max under load." : "."));
    }

    private static void Uploads(StringBuilder sb, ReportView v)
    {
        var m = v.Data.Metrics;
        var tc = v.Data.Tunnel;
        sb.AppendLine($"- uploads: the MCP server read {tc.ServerUploadBytes:N0} bytes in {tc.ServerUploads:N0} uploads "
            + $"({string.Join(", ", tc.Uploads.Select(u => $"{u.Name}: {u.Answered} answered, {u.BytesConfirmed:N0} bytes confirmed"))}); "
            + $"routes `{TunnelBench.UploadDirectRoute}` {Counts(m.RouteActions(TunnelBench.UploadDirectRoute))}, `{TunnelBench.UploadTunnelRoute}` "
            + $"{Counts(m.RouteActions(TunnelBench.UploadTunnelRoute))} (kind/decision).");
    }

    private static void Egress(StringBuilder sb, ReportView v)
    {
        var e = v.Data.Egress;
        sb.AppendLine($"- egress: route `{EgressBench.Route}` {Counts(e.Actions)} (kind/decision; `unauthenticated` are the 407 challenges), outcomes {Counts(e.Outcomes)} "
            + $"(kind/outcome), for {e.TunnelsOpenedByClients:N0} tunnels the clients saw opened ({EgressCheck.PreflightTunnels} in the preflight, "
            + $"{e.FirstByte.TunnelsOpened:N0} for the first-byte samples and their warm-ups, {e.IdleTunnels.Opened:N0} idle) plus the download client's; "
            + $"`agentperimeter_egress_open` {e.OpenAtEnd:N0} at the end; the origin finished {e.OriginDownloads:N0} downloads and answered {e.OriginSmalls:N0} "
            + $"`GET {EgressBench.SmallPath}`; the silent server accepted {e.SilentAccepted:N0} connections.");
        sb.AppendLine($"- audit records of the egress preflight tunnels: {e.PreflightAudit}.");
    }

    private static void RateLimits(StringBuilder sb, ReportView v)
    {
        var rl = v.Data.RateLimits;
        sb.AppendLine($"- rate limits: **gateway** made {v.Data.Metrics.RateLimitDecisionCount:N0} rate-limit decisions (it has no limits); "
            + LimitsLine(v.LimitsMemory, rl.MemoryMetrics, rl.MemoryRss) + "; " + LimitsLine(v.LimitsRedis, rl.RedisMetrics, rl.RedisRss) + ".");
    }

    private static string LimitsLine(Target t, GatewayMetrics m, RssSampler? rss) =>
        $"**{t.Name}** {Counts(m.RateLimitDecisions)} (result) for {t.Answered + 1:N0} responses (the preflight included), "
        + $"{m.RateLimitStoreErrors:N0} store errors, {m.Actions:N0} actions"
        + (rss is null ? "" : $", RSS {Mb(rss.IdleKb)} after start-up and {Mb(rss.MaxUnderLoadKb)} max under load");
}
