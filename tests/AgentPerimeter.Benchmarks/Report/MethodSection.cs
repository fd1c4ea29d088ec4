using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>How each group of targets is measured and checked: HTTP, audit durability, rate limits, MCP and the tunnel.</summary>
internal static class MethodSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        Http(sb, v);
        Durability(sb, v);
        RateLimits(sb, v);
        Mcp(sb, v);
        Tunnel(sb);
        Egress(sb, v);
    }

    private static void Http(StringBuilder sb, ReportView v)
    {
        var s = v.Settings;
        sb.AppendLine("## Method");
        sb.AppendLine();
        sb.AppendLine("Every process — load generator, upstream, proxies — shares the machine above and talks over loopback only, "
            + "so the numbers compare the targets with each other; they are not the capacity of a dedicated host.");
        sb.AppendLine();
        sb.AppendLine($"- **upstream**: a minimal Kestrel app in the benchmark process; any `GET /api/*` answers 200 with a {Servers.BodyLength}-byte JSON body. "
            + "Measured directly as a reference ceiling.");
        sb.AppendLine($"- **bare YARP**: Kestrel + YARP {typeof(Yarp.ReverseProxy.Configuration.RouteConfig).Assembly.GetName().Version?.ToString(3)} "
            + $"({(s.YarpInProcess ? "in the benchmark process" : "in its own process, like the gateway")}), the gateway's routes "
            + "(`/api/{**rest}` → upstream) and default proxy pipeline, with no identity, policy, audit or metrics.");
        sb.AppendLine("- **gateway**: the Release build of `src/AgentPerimeter.Gateway` as a child process with a temporary copy of the shipped `config/` "
            + "(console logging off; it logs to a file in its data directory only so the run can read which port its egress listener got), agent `bench` with a session token of work type `build`, so `GET /api/repos` is allowed and governed. "
            + "Every request is a real action: JWT validation, policy, two hash-chained audit records (the intent before forwarding, the outcome "
            + $"before the answer), each made durable by fsync (group commit; `Gateway:Audit:Durability` `{DurabilityBench.Fsync}`, the default) before "
            + "the action goes on, in a temporary data directory, and metrics.");
        sb.AppendLine($"- **throughput**: `wrk -t1 -c{s.Connections} -d{s.RoundSeconds}s --latency` against `/api/repos` with the bearer token "
            + $"(sent to every target); {s.WarmupSeconds} s warm-up per target, then {s.Rounds} interleaved round(s) — the order rotates each round — "
            + "and the median of the rounds for req/s, p50 and p99.");
        sb.AppendLine($"- **fixed rate**: `hey -z {s.FixedSeconds}s -c {s.FixedWorkers} -q {s.FixedQpsPerWorker}` "
            + $"({s.FixedWorkers} workers × {s.FixedQpsPerWorker} req/s ≈ {v.FixedRate:N0} req/s offered); hey reports latency to 0.1 ms.");
        sb.AppendLine("- **memory**: the gateway's VmRSS from `/proc/PID/status`, sampled every 200 ms while a load generator runs against it "
            + "(the HTTP and the MCP loads).");
        sb.AppendLine();
    }

    private static void Durability(StringBuilder sb, ReportView v)
    {
        var s = v.Settings;
        var disk = v.Data.Durability.Disk;
        sb.AppendLine("Audit durability, measured in the same run as one more HTTP target, interleaved with those above:");
        sb.AppendLine();
        sb.AppendLine($"- **{TargetNames.WriteDurability}**: one more gateway process, the same Release build and the same temporary config as **gateway** "
            + "(no limits; without the tunnel, which only the MCP and upload targets use), started with "
            + $"`{DurabilityBench.GatewayArgument(DurabilityBench.Write)}`: each audit batch is handed to the kernel with `write()` before its actions go on, "
            + "and flushed to the device at most every `Gateway:Audit:FlushInterval` (the default, 00:00:00.010), so a record survives a crash of the process "
            + "but a power loss can take the last interval. Everything else — two records per action, the hash chain, group commit — is as in **gateway**, "
            + "which keeps the default, `Fsync`. Its own data directory, signing key and bearer token.");
        sb.AppendLine($"- **load**: the same wrk rounds and fixed-rate hey run as the other HTTP targets, with the main gateway's {s.WarmupSeconds} s warm-up "
            + "(not the rate-limit gateways' shorter one): its targets compare it with bare YARP, and its numbers with **gateway**, which both get that warm-up.");
        sb.AppendLine($"- **the disk**: after the preflight and before any load, with every server started and idle, {disk.Iterations:N0} times: append "
            + $"{DiskFsync.WriteBytes} bytes to a file in the run's temporary directory (the filesystem every gateway's data directory is on; here {disk.FileSystem}) "
            + "with one `write()`, then `FileStream.Flush(flushToDisk: true)` (fsync, as the gateway makes a batch durable), each write and fsync timed together; "
            + "p50 and p99 by nearest rank. The fsync-mode target allows that p99 on top of bare YARP's fixed-rate p99 and the 1 ms the write mode gets.");
        sb.AppendLine("- **checks**: before the load, each gateway's `agentperimeter_audit_durability` must name its mode (`fsync`, `write`), and again at the end; "
            + $"the write-durability gateway must have no audit write error and count an allowed HTTP action on route `{Servers.HttpRoute}` for every response "
            + "the load generators got from it, and no other kind or decision there.");
        sb.AppendLine();
    }

    private static void RateLimits(StringBuilder sb, ReportView v)
    {
        var s = v.Settings;
        var rl = v.Data.RateLimits;
        sb.AppendLine("Rate limits, measured in the same run as two more HTTP targets, interleaved with those above:");
        sb.AppendLine();
        sb.AppendLine("- **gateway, in-memory limits** and **gateway, Redis limits**: two more gateway processes, the same Release build and the same "
            + "temporary config as **gateway**, plus `RateLimits` on work type `build`: "
            + string.Join(" and ", RedisBench.Limits.Select(l => $"`{l.Id}` ({l.Limit:N0} per {l.Period})"))
            + $", both on route `{RedisBench.LimitedRoute}` (so every `GET /api/repos` spends both budgets in one store call), partition `session`, "
            + "failure mode `closed` (a store error would be a 503). The limits are far above anything reached here, so they never refuse, but the check runs "
            + "in full on every action. The in-memory gateway keeps limit state in the process (no `Gateway:Redis`); the Redis gateway runs with "
            + $"`--Gateway:Redis:ConnectionString=127.0.0.1:PORT` against a `redis-server` {rl.RedisVersion} the benchmark starts on a free loopback port "
            + "(`--save '' --appendonly no`, files in the run's temporary directory) and stops at the end; every other Redis option is the default "
            + "(`Gateway:Redis:TimeoutMilliseconds` as shipped). Each gateway has its own data directory, signing key and bearer token.");
        sb.AppendLine("- **why two more processes**: **gateway** stays exactly the shipped config with no limits, so its numbers compare with earlier runs; "
            + "Redis or memory is chosen at start-up, so the two limits gateways must be separate processes anyway, and they differ only in that option.");
        sb.AppendLine($"- **load**: the same wrk rounds (all {v.Data.Targets.Count} HTTP targets rotate together) and the same fixed-rate hey run; {s.LimitsWarmupSeconds} s warm-up each "
            + $"(shorter than the main gateway's {s.WarmupSeconds} s to keep the run shorter; both limits gateways get the same, so their ratio is fair).");
        sb.AppendLine("- **round trips**: Redis's `INFO commandstats` is read just before the Redis gateway's preflight request and at the end of the run, "
            + "and its script calls (`EVALSHA`/`EVAL`) are divided by the rate-limit decisions (any result) the gateway made in the same window "
            + "(`agentperimeter_ratelimit_decisions_total`); the Redis gateway takes no other load in between. "
            + "**checks**: each limits gateway must count an allowed decision for every response the load generators got (and no more than the requests that can "
            + "have been in flight when a run ended), no other result (limited, unavailable, degraded) and no store error; **gateway** must make no rate-limit decision.");
        sb.AppendLine();
    }

    private static void Mcp(StringBuilder sb, ReportView v)
    {
        var s = v.Settings;
        var d = v.Data;
        sb.AppendLine("MCP `tools/call`, measured after the HTTP targets, against the same gateway process:");
        sb.AppendLine();
        sb.AppendLine($"- **MCP server**: the official MCP C# SDK (ModelContextProtocol.AspNetCore {typeof(ModelContextProtocol.Server.McpServer).Assembly.GetName().Version?.ToString(3)}), "
            + $"Streamable HTTP in stateless mode, in its own process, with one tool `{McpBench.Tool}` that returns its `text` argument, "
            + $"served at `{McpBench.McpPath}`. Every request is the same POST, `{McpBench.ToolCallBody}` ({McpBench.ToolCallBody.Length} bytes) with "
            + $"`Content-Type: {McpBench.ContentType}`, `Accept: {McpBench.Accept}` and the bearer token, and no `initialize` before it "
            + $"(stateless: each POST stands alone). The server answers `{d.Mcp.ResponseContentType}`"
            + (d.Mcp.ResponseContentType == "text/event-stream" ? " (one SSE event carrying the result), so the inspected route relays the response event by event." : "."));
        sb.AppendLine($"- **direct**: that server, no proxy. **uninspected**: the gateway route `{McpBench.RawRoute}` at `{McpBench.RawPath}` "
            + $"with no `Perimeter.Mcp` metadata: identity, HTTP policy (rule `{McpBench.RawRoute}`: POST `{McpBench.RawPath}`), audit and metrics, the body forwarded as bytes. "
            + $"**inspected**: the route `{McpBench.InspectedRoute}` at `{McpBench.InspectedPath}` with `\"Perimeter.Mcp\": \"true\"`: the same plus MCP inspection — the body buffered "
            + $"and parsed as JSON-RPC, the tool and its arguments decided by rule `{McpBench.InspectedRoute}` (`Tools: [\"{McpBench.Tool}\"]`), an MCP audit record, "
            + "and the server's SSE response relayed through the MCP response transform. The two routes differ only in that metadata (both set the path to "
            + $"`{McpBench.McpPath}` upstream; the shipped `demo-mcp` route already owns `{McpBench.McpPath}` on the gateway) and are added, with their rules in work type `build`, "
            + "to a temporary copy of the shipped config.");
        sb.AppendLine($"- **load**: the same wrk settings with a Lua script (`-s`) that sets method, body and headers; {s.McpWarmupSeconds} s warm-up per MCP target "
            + $"(shorter than the HTTP warm-up: the gateway is already warm from the HTTP targets; the MCP server is warmed by its own), "
            + $"then {s.Rounds} interleaved round(s) with the order rotating, medians as above; and the same fixed-rate hey run (`-m POST`) against each MCP target. "
            + $"Under wrk's saturating load the latencies are mostly queueing behind {s.Connections} connections, so the added p50/p99 there follow the "
            + "throughput; the fixed-rate run shows the per-request cost.");
        sb.AppendLine("- **checks**: wrk and hey only see HTTP statuses, and the gateway refuses an MCP call with 200 and a JSON-RPC error, so a preflight call to each target "
            + "must return the echo result; the audit record of the preflight call must be an allowed MCP `tools/call` (inspected) or an allowed HTTP action (uninspected); "
            + "and at the end the gateway's `agentperimeter_mcp_actions_total` / `agentperimeter_actions_total` must count at least as many allowed actions per route as the load "
            + "generators got responses, with no other decision, and the server at least as many `echo` calls as all MCP responses.");
        sb.AppendLine();
    }

    private static void Tunnel(StringBuilder sb)
    {
        sb.AppendLine("Reverse tunnel, measured with the MCP targets (one more target in their rotation) and then with 10 MB uploads, against the same gateway process:");
        sb.AppendLine();
        sb.AppendLine($"- **tunnel**: **gateway** also declares tunnel `{TunnelBench.Tunnel}` (`Gateway:Tunnels:{TunnelBench.Tunnel}`, the connector credential a random "
            + "64-hex-digit value in a file of the run's temporary directory) and a tunnel listener on a free loopback port (`Gateway:Listeners:Tunnel`, plain HTTP). "
            + "The connector — the Release build of `src/AgentPerimeter.Connector` — runs as its own process "
            + $"(`--tunnel {TunnelBench.Tunnel} --target http://127.0.0.1:PORT --connections {TunnelBench.ConnectorIdleConnections} --id {TunnelBench.ConnectorId}`), "
            + "dials out to that listener over WebSockets and forwards (YARP) to the same MCP server; the run starts once the gateway's `/admin/tunnels` lists its "
            + $"{TunnelBench.ConnectorIdleConnections} connections. Each WebSocket carries one HTTP/1.1 connection from the gateway to the connector: a request claims an idle one "
            + "and the connector opens a replacement, so under load the tunnel holds about as many connections as there are concurrent requests, plus the idle ones.");
        sb.AppendLine($"- **through the gateway directly vs through the tunnel**: the same MCP `tools/call` to the same server, on the inspected route `{McpBench.InspectedRoute}` "
            + $"(`{McpBench.InspectedPath}`, destination the server's address) and on its twin `{TunnelBench.McpRoute}` at `{TunnelBench.McpPath}` — also `\"Perimeter.Mcp\": \"true\"`, "
            + $"rule `{TunnelBench.McpRoute}` with `Tools: [\"{McpBench.Tool}\"]`, path set to `{McpBench.McpPath}` — whose cluster's one destination is `tunnel://{TunnelBench.Tunnel}`: "
            + "identity, policy, MCP inspection, audit and metrics are the same, only the last hop differs (a WebSocket to the connector, then the connector's own "
            + "HTTP connection to the server, instead of the gateway's TCP connection to the server). The same wrk rounds and fixed-rate hey run as the other MCP targets; "
            + "the ratio is that of the median req/s. CPU per response is summed over the target's own load runs: the gateway for the direct route, the gateway and the "
            + "connector for the tunnel.");
        sb.AppendLine($"- **10 MB body**: a POST of {TunnelBench.UploadBytes:N0} random bytes (`application/octet-stream` with `Content-Length`; under the gateway's default "
            + $"`Gateway:MaxRequestBodyBytes`, 10,485,760) to the MCP server process's `{McpBench.UploadPath}`, which reads the body to its end, discards it and answers "
            + $"`{{\"bytes\":N}}`: directly (reference), through the gateway route `{TunnelBench.UploadDirectRoute}` at `{TunnelBench.UploadDirectPath}` (plain HTTP, rule "
            + $"`{TunnelBench.UploadDirectRoute}`: POST, destination the server's address) and through `{TunnelBench.UploadTunnelRoute}` at `{TunnelBench.UploadTunnelPath}` "
            + $"(the same, destination `tunnel://{TunnelBench.Tunnel}`), both set to `{McpBench.UploadPath}` upstream. One .NET `HttpClient` in the benchmark process sends one "
            + $"upload at a time over a kept-alive connection: {TunnelBench.UploadWarmups} warm-up uploads per target, then {TunnelBench.UploadRepetitions} interleaved rounds "
            + "(the order rotates), each timed from sending the request to reading the answer; MB/s = 10 MB / that time (1 MB = 10^6 bytes), median of the rounds.");
        sb.AppendLine($"- **checks**: the preflight call through the tunnel must return the echo result, and its audit record must be an allowed MCP `tools/call` by rule "
            + $"`{TunnelBench.McpRoute}` with `\"tunnel\":\"{TunnelBench.Tunnel}\"` (the direct routes' records name no tunnel); the route's MCP actions are checked as for "
            + $"the other MCP routes; at the end `agentperimeter_tunnel_requests_total{{tunnel=\"{TunnelBench.Tunnel}\",result=\"forwarded\"}}` must count at least every response "
            + "that came through the tunnel (MCP preflight, warm-up, rounds, fixed rate, uploads), any other result no more than the requests that can have been cut off "
            + $"in flight when a load run ended; every upload must be answered 200 with `{{\"bytes\":{TunnelBench.UploadBytes}}}`, the server's own count of bytes read must be "
            + $"its uploads × {TunnelBench.UploadBytes:N0}, and each upload route must count an allowed HTTP action per answered upload.");
        sb.AppendLine();
    }

    private static void Egress(StringBuilder sb, ReportView v)
    {
        var e = v.Data.Egress;
        sb.AppendLine("Sandbox egress, measured last (after the uploads; no other load runs then), against the same gateway process:");
        sb.AppendLine();
        sb.AppendLine($"- **egress listener**: **gateway** also starts with `{EgressBench.ListenerArgument}` (a forward proxy on a port the OS picks; the run reads "
            + $"it from the gateway's \"Sandbox egress proxy on …\" line in its log file, `{EgressBench.LogArgument}`), and work type `build` gets two egress rules "
            + $"ahead of the shipped ones: `{EgressBench.TlsRule}` — host `{EgressBench.Host}`, the origin's port, `AllowCidrs: [\"{EgressBench.LoopbackCidr}\"]` "
            + $"(loopback is refused otherwise): a `CONNECT` tunnel whose first bytes must be a TLS ClientHello naming `{EgressBench.Host}` — and `{EgressBench.RawRule}` "
            + $"— host `{EgressBench.RawHost}`, the silent server's port, the same CIDR, `\"Raw\": true`. Each tunnel is an action: the session token in "
            + "`Proxy-Authorization` validated, the rule decided, the host resolved by the gateway and the address checked, an intent record made durable "
            + "(fsync) before it connects out, and an outcome record (bytes each way, close reason) when it ends.");
        sb.AppendLine($"- **destinations**, both in the benchmark process on 127.0.0.1: the **HTTPS origin**, Kestrel (HTTP/1.1 over TLS) with a self-signed "
            + $"ECDSA P-256 certificate for `{EgressBench.Host}` made for the run — clients accept exactly that certificate and still check its name — answering "
            + $"`GET {EgressBench.DownloadPath}` with {EgressBench.DownloadBytes:N0} random bytes and `GET {EgressBench.SmallPath}` with {EgressOrigin.SmallBody.Length} bytes; "
            + "the **silent server**, a TCP listener that accepts every connection and never reads or writes.");
        sb.AppendLine($"- **10 MB download**: one .NET `HttpClient` per path, each keeping its connection: **direct** (it connects to 127.0.0.1, the address the "
            + $"gateway picks for `{EgressBench.Host}`), and **through an egress tunnel** with `WebProxy` and `NetworkCredential(\"{EgressBench.ProxyUser}\", TOKEN)`: "
            + "its first `CONNECT` goes without credentials, is answered 407, and is sent again with `Proxy-Authorization: Basic` on a new connection; later "
            + $"downloads reuse that tunnel. {EgressBench.DownloadWarmups} warm-up downloads per path, then {EgressBench.DownloadRepetitions} interleaved rounds (the order "
            + "alternates), each timed from sending the request to reading the last byte; MB/s = 10 MB / that time, median of the rounds.");
        sb.AppendLine($"- **time to first byte of a new tunnel**: {EgressBench.FirstByteWarmups} warm-up and then {EgressBench.FirstByteSamples} measured pairs of fresh "
            + "connections, one direct and one through the proxy, the order alternating from pair to pair. Each: TCP connect; through the proxy, "
            + $"`CONNECT {EgressBench.Host}:PORT` with `Proxy-Authorization: Basic` sent at once (as curl does with `HTTPS_PROXY=http://agent:TOKEN@…`; no 407 round) "
            + $"and its 200; the TLS handshake (.NET `SslStream`; it may resume a TLS session, alike on both paths); `GET {EgressBench.SmallPath}` with "
            + "`Connection: close`; timed until the first byte of the answer. p50 and p90 by nearest rank per path; *added* is the proxied percentile minus the direct one.");
        sb.AppendLine($"- **idle tunnels**: {EgressBench.IdleTunnels:N0} raw tunnels to the silent server (`CONNECT {EgressBench.RawHost}:PORT` with the token), "
            + $"{EgressBench.IdleTunnelOpeners} `CONNECT`s in flight at a time, then held with nothing moving. The gateway's VmRSS — each figure the median of "
            + $"{EgressBench.RssReadings} readings 250 ms apart of its 200 ms sampler — just before they are opened, once all are open (the gateway's "
            + "`agentperimeter_egress_open` counts them and the silent server holds them), and after they closed (the clients first, then the server's side, "
            + "until the gauge is back). Added = open − before; per tunnel = that / the tunnels open (1 KB = 10^3 bytes). The gateway has run the whole "
            + "benchmark by then, so its heap may already have room for part of what the tunnels allocate: the figure is what they add to resident memory "
            + "at that point, not the size of their allocations.");
        sb.AppendLine("- **checks**: before any load, a `CONNECT` without credentials must be answered 407 with a Basic challenge (so the logged port is the "
            + "egress proxy), .NET's client through the proxy must get the small answer, a raw `CONNECT` must get 200, and the audit log must hold an intent and "
            + $"an outcome record of a tunnel of each rule (allowed, `CONNECT` to address {EgressBench.RawHost}; the TLS one with SNI `{EgressBench.Host}` and bytes "
            + $"both ways). At the end: every download read exactly {EgressBench.DownloadBytes:N0} bytes and the origin finished as many; every first-byte connection "
            + $"got 200 and the small body; the gateway counted an allowed egress action (`agentperimeter_actions_total{{route=\"{EgressBench.Route}\",kind=\"egress\","
            + "decision=\"allow\"}`) for each tunnel the clients opened, plus the download client's, and no decision but that and the 407s (`unauthenticated`); all "
            + $"{EgressBench.IdleTunnels:N0} idle tunnels were open at once in its gauge and at the silent server; and `agentperimeter_egress_open` is 0 at the end"
            + (e.OpenAtEnd > 0 ? " (it was not: see Problems)." : "."));
        sb.AppendLine();
    }
}
