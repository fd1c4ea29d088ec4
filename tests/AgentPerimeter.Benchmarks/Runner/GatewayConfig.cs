using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// A gateway's configuration for the run: the shipped <c>config/</c>, copied so the run never touches the repository's
/// config/ or data/, plus the benchmark's MCP routes and their rules (and, for the limits gateways, its rate limits; for the
/// main gateway, its egress rules).
/// </summary>
internal static class GatewayConfig
{
    private static readonly JsonDocumentOptions ConfigJson = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Writes the configuration into <paramref name="configDir"/>. <paramref name="withTunnel"/> adds the tunnel and upload
    /// routes and rules; <paramref name="withLimits"/> the benchmark's rate limits; <paramref name="egress"/> the egress
    /// rules to the benchmark's HTTPS origin and silent TCP server on those ports.
    /// </summary>
    public static void Write(string repoRoot, string configDir, Uri mcpServer, bool withTunnel, bool withLimits, EgressPorts? egress = null)
    {
        CopyShipped(Path.Combine(repoRoot, "config"), configDir);
        AddMcpRoutes(Path.Combine(configDir, "routes.json"), mcpServer, withTunnel);
        AddMcpRules(Path.Combine(configDir, "perimeter.json"), withTunnel);
        if (withLimits)
            AddRateLimits(Path.Combine(configDir, "perimeter.json"));
        if (egress is { } ports)
            AddEgressRules(Path.Combine(configDir, "perimeter.json"), ports);
    }

    /// <summary>All of config/, subfolders included: files the config refers to by relative path (secret sources) come along.</summary>
    private static void CopyShipped(string shipped, string configDir)
    {
        foreach (var file in Directory.GetFiles(shipped, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(configDir, Path.GetRelativePath(shipped, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }

    /// <summary>
    /// Two routes to the benchmark's MCP server that differ only in the <c>Perimeter.Mcp</c> metadata:
    /// <c>/inspected/mcp</c> with MCP inspection and <c>/raw/mcp</c> without (a plain HTTP route). Both set the
    /// path to <c>/mcp</c> on the way upstream. <paramref name="withTunnel"/> adds <c>/tunnel/mcp</c>, the inspected
    /// route's twin whose cluster's one destination is <c>tunnel://bench-mcp</c>, and the plain upload routes
    /// <c>/direct/upload</c> (to the server) and <c>/tunnel/upload</c> (through the tunnel), both set to <c>/upload</c>.
    /// </summary>
    private static void AddMcpRoutes(string path, Uri mcpServer, bool withTunnel)
    {
        var root = Load(path);
        var proxy = root["ReverseProxy"] as JsonObject ?? throw new InvalidOperationException($"{path} has no ReverseProxy section");
        var routes = proxy["Routes"] as JsonObject ?? throw new InvalidOperationException($"{path} has no ReverseProxy:Routes");
        var clusters = proxy["Clusters"] as JsonObject ?? throw new InvalidOperationException($"{path} has no ReverseProxy:Clusters");
        routes[McpBench.InspectedRoute] = Route(McpBench.Cluster, McpBench.InspectedPath, McpBench.McpPath, mcp: true);
        routes[McpBench.RawRoute] = Route(McpBench.Cluster, McpBench.RawPath, McpBench.McpPath);
        clusters[McpBench.Cluster] = Cluster(McpBench.Cluster, mcpServer.ToString());
        if (withTunnel)
        {
            routes[TunnelBench.McpRoute] = Route(TunnelBench.Cluster, TunnelBench.McpPath, McpBench.McpPath, mcp: true);
            routes[TunnelBench.UploadDirectRoute] = Route(McpBench.Cluster, TunnelBench.UploadDirectPath, McpBench.UploadPath);
            routes[TunnelBench.UploadTunnelRoute] = Route(TunnelBench.Cluster, TunnelBench.UploadTunnelPath, McpBench.UploadPath);
            clusters[TunnelBench.Cluster] = Cluster(TunnelBench.Cluster, $"tunnel://{TunnelBench.Tunnel}");
        }
        Save(path, root);
    }

    /// <summary>
    /// Rules for the two MCP routes in work type <c>build</c> (the benchmark's session): <c>echo</c> only on the inspected one;
    /// <paramref name="withTunnel"/>: also <c>echo</c> on the tunnel's MCP route, and POST on the two upload routes.
    /// </summary>
    private static void AddMcpRules(string path, bool withTunnel)
    {
        var root = Load(path);
        var rules = root["Perimeter"]?["WorkTypes"]?["build"]?["Rules"] as JsonArray
            ?? throw new InvalidOperationException($"{path} has no Perimeter:WorkTypes:build:Rules; the benchmark's session is of work type 'build'");
        rules.Add(PostRule(McpBench.InspectedRoute, McpBench.InspectedPath, McpBench.Tool));
        rules.Add(PostRule(McpBench.RawRoute, McpBench.RawPath));
        if (withTunnel)
        {
            rules.Add(PostRule(TunnelBench.McpRoute, TunnelBench.McpPath, McpBench.Tool));
            rules.Add(PostRule(TunnelBench.UploadDirectRoute, TunnelBench.UploadDirectPath));
            rules.Add(PostRule(TunnelBench.UploadTunnelRoute, TunnelBench.UploadTunnelPath));
        }
        Save(path, root);
    }

    /// <summary>
    /// The benchmark's limits on work type <c>build</c> (the benchmark's session), on the HTTP route only, per session,
    /// failing closed: a store error is a 503, which the run counts as a problem. Replaces any limits the shipped
    /// config gives <c>build</c>.
    /// </summary>
    private static void AddRateLimits(string path)
    {
        var root = Load(path);
        var build = root["Perimeter"]?["WorkTypes"]?["build"] as JsonObject
            ?? throw new InvalidOperationException($"{path} has no Perimeter:WorkTypes:build; the benchmark's session is of work type 'build'");
        var limits = new JsonArray();
        foreach (var (id, limit, period) in RedisBench.Limits)
            limits.Add(new JsonObject { ["Id"] = id, ["Limit"] = limit, ["Period"] = period, ["Route"] = RedisBench.LimitedRoute });
        build["RateLimits"] = new JsonObject
        {
            ["Partition"] = "session",
            ["FailureMode"] = "closed",
            ["Limits"] = limits,
        };
        Save(path, root);
    }

    /// <summary>
    /// Two egress rules at the head of work type <c>build</c>'s (the benchmark's session) list, ahead of the shipped ones:
    /// CONNECT to <c>localhost</c> on the HTTPS origin's port, TLS only (the SNI must be <c>localhost</c>), and raw CONNECT
    /// (any bytes) to <c>127.0.0.1</c> on the silent server's port. Both name the loopback range, which the gateway refuses
    /// to reach otherwise.
    /// </summary>
    private static void AddEgressRules(string path, EgressPorts ports)
    {
        var root = Load(path);
        var build = root["Perimeter"]?["WorkTypes"]?["build"] as JsonObject
            ?? throw new InvalidOperationException($"{path} has no Perimeter:WorkTypes:build; the benchmark's session is of work type 'build'");
        if (build["Egress"] is not JsonObject egress)
            build["Egress"] = egress = new JsonObject();
        if (egress["Rules"] is not JsonArray rules)
            egress["Rules"] = rules = new JsonArray();
        rules.Insert(0, EgressRule(EgressBench.TlsRule, EgressBench.Host, ports.Https, raw: false));
        rules.Insert(1, EgressRule(EgressBench.RawRule, EgressBench.RawHost, ports.Silent, raw: true));
        Save(path, root);
    }

    private static JsonObject EgressRule(string id, string host, int port, bool raw) => new()
    {
        ["Id"] = id,
        ["Hosts"] = new JsonArray(host),
        ["Ports"] = new JsonArray(port),
        ["AllowCidrs"] = new JsonArray(EgressBench.LoopbackCidr),
        ["Raw"] = raw,
    };

    /// <summary>A route to <paramref name="cluster"/> at <paramref name="path"/>, set to <paramref name="upstreamPath"/> upstream; <paramref name="mcp"/>: with MCP inspection.</summary>
    private static JsonObject Route(string cluster, string path, string upstreamPath, bool mcp = false)
    {
        var route = new JsonObject
        {
            ["ClusterId"] = cluster,
            ["Match"] = new JsonObject { ["Path"] = path },
        };
        if (mcp)
            route["Metadata"] = new JsonObject { ["Perimeter.Mcp"] = "true" };
        route["Transforms"] = new JsonArray(new JsonObject { ["PathSet"] = upstreamPath });
        return route;
    }

    /// <summary>A cluster with one destination, <c>CLUSTER-1</c>.</summary>
    private static JsonObject Cluster(string cluster, string address) => new()
    {
        ["Destinations"] = new JsonObject { [cluster + "-1"] = new JsonObject { ["Address"] = address } },
    };

    /// <summary>A rule (its id the route's) allowing POST to <paramref name="path"/>; with <paramref name="tool"/>, only that MCP tool.</summary>
    private static JsonObject PostRule(string route, string path, string? tool = null)
    {
        var rule = new JsonObject
        {
            ["Id"] = route,
            ["Route"] = route,
            ["Methods"] = new JsonArray("POST"),
            ["Paths"] = new JsonArray(path),
        };
        if (tool is not null)
            rule["Tools"] = new JsonArray(tool);
        return rule;
    }

    private static JsonObject Load(string path) =>
        JsonNode.Parse(File.ReadAllText(path), documentOptions: ConfigJson)?.AsObject()
            ?? throw new InvalidOperationException($"{path} is empty");

    private static void Save(string path, JsonObject root) => File.WriteAllText(path, root.ToJsonString(Indented));
}
