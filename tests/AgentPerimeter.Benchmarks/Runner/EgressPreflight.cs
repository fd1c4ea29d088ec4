using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// Before any load, the egress listener must be what the run measures: a CONNECT without credentials is answered 407
/// with a Basic challenge; .NET's <see cref="HttpClient"/> through it (the challenge answered) gets the origin's small
/// answer over TLS; a raw CONNECT to the silent server is answered 200; and each of the two tunnels is an audited
/// action — an intent record (allowed by its rule, the address checked) and an outcome record when it closed.
/// </summary>
internal static class EgressPreflight
{
    private static readonly TimeSpan AuditWait = TimeSpan.FromSeconds(10);

    /// <summary>Throws if any of the above fails; returns a summary of the audit records for the report.</summary>
    public static async Task<string> RunAsync(BenchServers servers, CancellationToken ct)
    {
        var gateway = servers.Gateway;
        var proxy = gateway.Egress ?? throw new InvalidOperationException($"{TargetNames.Gateway} has no egress listener");
        await CheckChallengeAsync(proxy, servers.EgressOrigin.Port, ct).ConfigureAwait(false);

        using (var client = EgressDownloads.ProxiedClient(servers.EgressOrigin, proxy, gateway.Token))
        {
            using var response = await client.GetAsync(new Uri(servers.EgressOrigin.Uri, EgressBench.SmallPath.TrimStart('/')), ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK || !body.AsSpan().SequenceEqual(EgressOrigin.SmallBody))
                throw new InvalidOperationException($"GET {EgressBench.SmallPath} through the egress proxy answered {(int)response.StatusCode}, expected 200 with the small body");
        }
        await using (await ProxyConnect.OpenAsync(proxy, EgressBench.RawHost, servers.SilentServer.Port, gateway.Token, ct).ConfigureAwait(false))
        {
            if (!await servers.SilentServer.WaitUntilHeldAsync(1, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false))
                throw new InvalidOperationException("the raw tunnel was answered 200, but the silent server did not get its connection");
        }
        // The gateway passes the client's end of sending on as a half-close; the silent server never answers it, so close it here.
        servers.SilentServer.CloseAccepted();

        var (tls, raw) = await WaitForRecordsAsync(servers.AuditLog, ct).ConfigureAwait(false);
        var summary = $"{EgressBench.TlsRule} → {Describe(tls)}; {EgressBench.RawRule} → {Describe(raw)}";
        BenchLog.Write($"egress preflight: 407 without credentials, 200 through the proxy with them; audit: {summary}");
        return summary;
    }

    /// <summary>A CONNECT with no credentials: 407 and a Basic challenge, so the logged address is the egress proxy and .NET's client can answer it.</summary>
    private static async Task CheckChallengeAsync(Uri proxy, int port, CancellationToken ct)
    {
        await using var stream = await TcpConnect.ConnectAsync(new IPEndPoint(IPAddress.Parse(proxy.Host), proxy.Port), ct).ConfigureAwait(false);
        await stream.WriteAsync(ProxyConnect.Request(EgressBench.Host, port, token: null), ct).ConfigureAwait(false);
        var head = await ProxyConnect.ReadHeadAsync(stream, ct).ConfigureAwait(false);
        if (!head.StartsWith("HTTP/1.1 407 ", StringComparison.Ordinal) || !head.Contains("\r\nProxy-Authenticate: Basic", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"{proxy} answered a CONNECT without credentials with {ProxyConnect.FirstLine(head)}, expected 407 with a Basic challenge; "
                + "is it the gateway's egress listener?");
    }

    /// <summary>The intent and outcome records of the last tunnel of each rule, once both are in the log (the outcome follows the close).</summary>
    private static async Task<(Tunnel Tls, Tunnel Raw)> WaitForRecordsAsync(string auditLog, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var tls = LastTunnel(auditLog, EgressBench.TlsRule);
            var raw = LastTunnel(auditLog, EgressBench.RawRule);
            if (tls.Outcome is not null && raw.Outcome is not null)
            {
                Verify(tls, EgressBench.TlsRule, expectSni: EgressBench.Host);
                Verify(raw, EgressBench.RawRule, expectSni: null);
                return (tls, raw);
            }
            if (clock.Elapsed > AuditWait)
                throw new InvalidOperationException($"the audit log has no intent and outcome record for a tunnel of each egress rule within {AuditWait.TotalSeconds:F0} s: "
                    + $"{EgressBench.TlsRule}: {tls.Intent?.ToJsonString() ?? "(no intent)"} {tls.Outcome?.ToJsonString() ?? "(no outcome)"}; "
                    + $"{EgressBench.RawRule}: {raw.Intent?.ToJsonString() ?? "(no intent)"} {raw.Outcome?.ToJsonString() ?? "(no outcome)"}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
        }
    }

    /// <summary>An egress tunnel's two records, matched by action id.</summary>
    private sealed record Tunnel(JsonObject? Intent, JsonObject? Outcome);

    private static Tunnel LastTunnel(string auditLog, string rule)
    {
        var intents = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        Tunnel last = new(null, null);
        using var stream = new FileStream(auditLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            if (!line.Contains("\"kind\":\"egress\"", StringComparison.Ordinal) || JsonNode.Parse(line) is not JsonObject record || Str(record["rule"]) != rule)
                continue;
            var id = Str(record["action_id"]) ?? "";
            if (Str(record["phase"]) == "intent")
            {
                intents[id] = record;
                last = new Tunnel(record, null);
            }
            else if (Str(record["phase"]) == "outcome" && intents.TryGetValue(id, out var intent))
            {
                last = new Tunnel(intent, record);
            }
        }
        return last;
    }

    /// <summary>Intent: allowed, a CONNECT to the origin's address 127.0.0.1. Outcome: bytes both ways only on the TLS tunnel, which must name <paramref name="expectSni"/>.</summary>
    private static void Verify(Tunnel t, string rule, string? expectSni)
    {
        var intent = t.Intent!;
        var outcome = t.Outcome!;
        bool ok = Str(intent["decision"]) == "allow" && Str(intent["egress"]?["mode"]) == "connect" && Str(intent["egress"]?["address"]) == EgressBench.RawHost
            && Str(outcome["decision"]) == "allow" && Str(outcome["egress"]?["sni"]) == expectSni
            && (expectSni is null || (Long(outcome["egress"]?["bytes_up"]) > 0 && Long(outcome["egress"]?["bytes_down"]) > 0));
        if (!ok)
            throw new InvalidOperationException($"the audit records of the preflight tunnel by rule {rule} are not an allowed CONNECT to {EgressBench.RawHost}"
                + (expectSni is null ? "" : $" with SNI {expectSni} and bytes both ways") + $": {intent.ToJsonString()} {outcome.ToJsonString()}");
    }

    private static string Describe(Tunnel t) =>
        $"intent {Str(t.Intent!["decision"])} to {Str(t.Intent["egress"]?["host"])}:{Long(t.Intent["egress"]?["port"])} (address {Str(t.Intent["egress"]?["address"])}), "
        + $"outcome {Str(t.Outcome!["outcome"])}, sni {Str(t.Outcome["egress"]?["sni"]) ?? "none"}, {Long(t.Outcome["egress"]?["bytes_up"]):N0} bytes up, "
        + $"{Long(t.Outcome["egress"]?["bytes_down"]):N0} down, closed {Str(t.Outcome["egress"]?["close_reason"])}";

    private static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long Long(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var n) ? n : -1;
}
