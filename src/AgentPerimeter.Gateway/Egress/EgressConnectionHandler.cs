using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Protocol.Refusals;
using Microsoft.AspNetCore.Connections;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The egress listener: a forward proxy for sandboxes, on a raw Kestrel connection (CONNECT cannot be
/// tunnelled through the HTTP pipeline). One request per connection: <c>CONNECT host:port</c> becomes a
/// byte tunnel once the client's TLS ClientHello names that host; an absolute-form request
/// (<c>GET http://host/path</c>) is forwarded and its answer relayed. Every one is an action of kind
/// <c>egress</c>: authenticated by the session token in <c>Proxy-Authorization</c>, decided by the work
/// type's egress rules, checked against private and metadata addresses, recorded before the gateway
/// connects out (intent) and when it ends (outcome), and closed when its session is revoked.
/// </summary>
internal sealed partial class EgressConnectionHandler(
    EgressProxyAuth auth,
    PolicyStore policy,
    IActionRecorder recorder,
    EgressTunnels tunnels,
    RateLimiting.IRateLimitStore limitStore,
    InspectingTunnel inspecting,
    EgressOptions options,
    TimeProvider time,
    ILogger<EgressConnectionHandler> logger) : ConnectionHandler
{
    public const string RouteId = "egress";

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var closed = connection.ConnectionClosed;
        (ProxyRequestHead? Head, string? Error) read;
        try
        {
            using var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
            headTimeout.CancelAfter(options.HelloTimeout);
            read = await ProxyRequestHead.ReadAsync(input, headTimeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (read.Head is null && read.Error is null)
            return;

        var action = new ActionContext(ActionContext.NewId(), time.GetUtcNow()) { Kind = ActionKind.Egress, RouteId = RouteId };
        var snapshot = policy.Current;
        action.PolicyVersion = snapshot.Version;
        if (read.Head is not { } head)
        {
            action.Method = "?";
            action.Path = "?";
            await RefuseAsync(output, action, 400, new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.BadProxyRequest, null,
                $"Not a proxy request this perimeter takes: {read.Error}.")).ConfigureAwait(false);
            return;
        }
        action.Method = head.Method;
        action.Path = head.IsConnect ? $"{head.Host}:{head.Port}" : ActionResponses.Printable(head.Target, 2048);
        action.Egress = new EgressActionInfo { Host = head.Host, Port = head.Port, Mode = head.IsConnect ? "connect" : "http" };

        if (!recorder.CanRecord())
        {
            action.TryClaimRecord();
            await WriteRefusalAsync(output, action, 503, RefusalCodes.AuditUnavailable, "The perimeter cannot record actions right now, so it refuses them. Retry later.").ConfigureAwait(false);
            recorder.CountUnrecorded(action);
            return;
        }

        var identity = await auth.AuthenticateAsync(head, action).ConfigureAwait(false);
        if (identity.Refusal is { } refusal)
        {
            await RefuseAsync(output, action, 407, refusal).ConfigureAwait(false);
            return;
        }

        var catalog = snapshot.Section<EgressCatalog>();
        var (decision, rule) = catalog.Decide(action.WorkType!, head.Host, head.Port,
            head.IsConnect ? null : head.Method, head.IsConnect ? null : PathOf(head.PathAndQuery));
        if (!decision.Permits)
        {
            await RefuseAsync(output, action, 403, decision).ConfigureAwait(false);
            return;
        }
        if (decision.Outcome == DecisionOutcome.WouldDeny)
            Log.WouldDeny(logger, action.ActionId, action.WorkType!, head.Method, head.Host, head.Port, decision.RuleId!);
        if (await LimitAsync(snapshot, action, closed).ConfigureAwait(false) is { } limited)
        {
            action.Decide(decision);
            await FailAsync(output, action, limited.Class == OutcomeClass.Limited ? 429 : 503, limited).ConfigureAwait(false);
            return;
        }

        if (catalog.MaxOpenPerSession.TryGetValue(action.WorkType!, out var maxOpen) && tunnels.CountFor(action.SessionId!) >= maxOpen)
        {
            action.Decide(decision);
            await FailAsync(output, action, 429, new ActionOutcome(OutcomeClass.Limited, RefusalCodes.RateLimited, null,
                $"Work type '{action.WorkType}' lets a session hold {maxOpen} egress connections open at once; close one first.",
                TimeSpan.FromSeconds(1)) { NothingSent = true }).ConfigureAwait(false);
            return;
        }

        // The gateway resolves the name itself and connects to the very address it checked: no second
        // resolution, so a name that rebinds to an internal address cannot swap it in between.
        IPAddress[] addresses;
        try
        {
            using var resolveTimeout = CancellationTokenSource.CreateLinkedTokenSource(closed);
            resolveTimeout.CancelAfter(options.ConnectTimeout);
            addresses = IPAddress.TryParse(head.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(head.Host, resolveTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ArgumentException)
        {
            action.Decide(decision);
            await FailAsync(output, action, 502, new ActionOutcome(OutcomeClass.UpstreamFailed, RefusalCodes.ResolveFailed,
                Reason: $"'{head.Host}' does not resolve.") { NothingSent = true }).ConfigureAwait(false);
            return;
        }
        var (allowed, refusedWhy) = Choose(addresses, rule!);
        if (allowed.Count == 0)
        {
            await RefuseAsync(output, action, 403, new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.AddressNotAllowed, rule!.Id,
                $"'{head.Host}' resolves to an address the perimeter does not let sandboxes reach ({refusedWhy}); a rule must allow that range explicitly (AllowCidrs).")).ConfigureAwait(false);
            return;
        }
        action.Decide(decision);
        action.Egress.Address = allowed[0].ToString();

        // No effect without a record: the intent is durable before the gateway connects out.
        if (!await recorder.RecordIntentAsync(action).ConfigureAwait(false))
        {
            await FailAsync(output, action, 503, new ActionOutcome(OutcomeClass.Unavailable, RefusalCodes.AuditUnavailable,
                Reason: "The perimeter could not record this request before making it, so it did not make it.") { NothingSent = true }).ConfigureAwait(false);
            return;
        }

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(closed);
        using var registration = tunnels.Add(action.SessionId!, action.AgentId!, cancel);
        Socket? upstream = null;
        try
        {
            // Only addresses the guard let through, in the resolver's order (e.g. ::1, then 127.0.0.1).
            foreach (var address in allowed)
            {
                try
                {
                    upstream = await ConnectAsync(address, head.Port, cancel.Token).ConfigureAwait(false);
                    action.Egress.Address = address.ToString();
                    break;
                }
                catch (SocketException) when (address != allowed[^1])
                {
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            upstream?.Dispose();
            await FailAsync(output, action, 502, new ActionOutcome(OutcomeClass.UpstreamFailed, RefusalCodes.ConnectFailed,
                Reason: $"{head.Host}:{head.Port} did not accept the connection.") { NothingSent = true }).ConfigureAwait(false);
            return;
        }

        using (upstream)
        await using (var upstreamStream = new NetworkStream(upstream!, ownsSocket: false))
        {
            var relay = new EgressRelay(input, output, upstreamStream, action.Egress, options.IdleTimeout, time);
            if (head.IsConnect)
                await TunnelAsync(head, rule!, action, input, output, relay, snapshot, cancel.Token).ConfigureAwait(false);
            else
                await ForwardAsync(head, action, relay, upstreamStream, cancel.Token).ConfigureAwait(false);
        }
        if (cancel.IsCancellationRequested && !closed.IsCancellationRequested)
        {
            action.Egress.CloseReason = "revoked";
            action.SetOutcome(new ActionOutcome(OutcomeClass.Revoked, RefusalCodes.TunnelRevoked, Reason: "The session was revoked; its open tunnels were closed."));
        }
        await RecordAsync(action).ConfigureAwait(false);
    }

    private async Task TunnelAsync(ProxyRequestHead head, EgressRule rule, ActionContext action, PipeReader input, PipeWriter output, EgressRelay relay,
        PerimeterPolicy snapshot, CancellationToken cancellationToken)
    {
        await output.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        action.Status = 200;
        if (!rule.Raw)
        {
            var check = await relay.ReadClientHelloAsync(options.HelloTimeout, cancellationToken).ConfigureAwait(false);
            var expectedSni = IPAddress.TryParse(head.Host, out _) ? null : head.Host;
            string? violation = check switch
            {
                { IsTls: false } => RefusalCodes.NotTls,
                // Encrypted Client Hello hides the name the server will see: it could front any host.
                { Encrypted: true } => RefusalCodes.SniMismatch,
                { Sni: var sni } when !string.Equals(sni, expectedSni, StringComparison.OrdinalIgnoreCase) => RefusalCodes.SniMismatch,
                _ => null,
            };
            action.Egress!.Sni = check.Sni;
            if (violation is not null)
            {
                action.Egress.CloseReason = violation;
                action.SetOutcome(new ActionOutcome(OutcomeClass.Violation, violation, rule.Id, violation == RefusalCodes.SniMismatch
                    ? $"The tunnel to {head.Host} sent TLS for '{check.Sni ?? "(no name)"}': the server name must be the host the tunnel was asked for."
                    : $"The tunnel to {head.Host}:{head.Port} did not start with TLS, and its rule allows only TLS."));
                Log.Violation(logger, action.ActionId, violation, head.Host, check.Sni);
                await output.CompleteAsync().ConfigureAwait(false);
                return;
            }
        }
        if (rule.Inspect)
        {
            await inspecting.RunAsync(action, rule, head, IPAddress.Parse(action.Egress!.Address!), snapshot.Section<Secrets.SecretCatalog>(),
                input, output, cancellationToken).ConfigureAwait(false);
            return;
        }
        action.MarkForwarding();
        await relay.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ForwardAsync(ProxyRequestHead head, ActionContext action, EgressRelay relay, Stream upstream, CancellationToken cancellationToken)
    {
        // Origin form to the destination; the agent's proxy credentials and hop-by-hop headers stay here.
        var sb = new StringBuilder();
        sb.Append(head.Method).Append(' ').Append(head.PathAndQuery).Append(" HTTP/1.1\r\n");
        sb.Append("Host: ").Append(head.Port == 80 ? head.Host : $"{head.Host}:{head.Port}").Append("\r\n");
        foreach (var (name, value) in head.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
                || name.Equals("TE", StringComparison.OrdinalIgnoreCase) || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
                continue;
            sb.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        sb.Append("Connection: close\r\n\r\n");
        action.MarkForwarding();
        var bytes = Encoding.Latin1.GetBytes(sb.ToString());
        await upstream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        action.Egress!.BytesUp += bytes.Length;
        await relay.RunAsync(cancellationToken).ConfigureAwait(false);
        action.UpstreamStatus = relay.ResponseStatus;
        action.Status = relay.ResponseStatus;
    }

    /// <summary>
    /// The work type's rate limits that apply to egress (limits with no route, or <c>"Route": "egress"</c>):
    /// each new tunnel or request spends one. Null when within them (or the store fails open).
    /// </summary>
    private async Task<ActionOutcome?> LimitAsync(PerimeterPolicy snapshot, ActionContext action, CancellationToken cancellationToken)
    {
        var limits = snapshot.Section<RateLimiting.LimitCatalog>().For(action.WorkType!);
        var applicable = limits.Rules.Where(r => r.Applies(RouteId, null, null)).ToList();
        if (applicable.Count == 0)
            return null;
        var partition = limits.Partition == RateLimiting.LimitPartition.Agent ? $"{action.WorkType}:agent:{action.AgentId}" : $"{action.WorkType}:session:{action.SessionId}";
        var result = await limitStore.AcquireAsync(partition, applicable, cancellationToken).ConfigureAwait(false);
        if (result.StoreError is { } error)
        {
            if (!limits.FailClosed)
            {
                action.SetOutcome(new ActionOutcome(OutcomeClass.Degraded, "ratelimit_degraded", Reason: $"Allowed without a rate-limit check: {error}."));
                return null;
            }
            return new ActionOutcome(OutcomeClass.Unavailable, RefusalCodes.RateLimitUnavailable,
                Reason: "The perimeter cannot check this work type's rate limits right now, so it refuses the request.", RetryAfter: TimeSpan.FromSeconds(1)) { NothingSent = true };
        }
        if (result.Allowed)
            return null;
        var limit = result.Limiting!;
        return new ActionOutcome(OutcomeClass.Limited, RefusalCodes.RateLimited, limit.Id,
            $"Work type '{action.WorkType}' may open {limit.Limit} egress connections per {limit.Period} under limit '{limit.Id}'.", result.RetryAfter) { NothingSent = true };
    }

    private static string PathOf(string pathAndQuery)
    {
        int q = pathAndQuery.IndexOf('?');
        return q < 0 ? pathAndQuery : pathAndQuery[..q];
    }

    /// <summary>The resolved addresses the guard lets through (the rule's CIDRs included), or why none.</summary>
    private static (List<IPAddress> Allowed, string? Why) Choose(IPAddress[] addresses, EgressRule rule)
    {
        string? why = null;
        var allowed = new List<IPAddress>(addresses.Length);
        foreach (var address in addresses)
        {
            var verdict = AddressGuard.Check(address, rule.AllowCidrs);
            if (verdict.IsAllowed)
                allowed.Add(address);
            else
                why ??= $"{address}: {verdict.Message}";
        }
        return (allowed, allowed.Count > 0 ? null : why ?? "no address");
    }

    private async Task<Socket> ConnectAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task RefuseAsync(PipeWriter output, ActionContext action, int status, PolicyDecision decision)
    {
        action.Decide(decision);
        await WriteRefusalAsync(output, action, status, decision.Code, decision.Reason ?? decision.Code).ConfigureAwait(false);
        await RecordAsync(action).ConfigureAwait(false);
    }

    private async Task FailAsync(PipeWriter output, ActionContext action, int status, ActionOutcome outcome)
    {
        action.Conclude(outcome);
        action.Egress?.CloseReason ??= outcome.Code;
        await WriteRefusalAsync(output, action, status, outcome.Code, outcome.Reason ?? outcome.Code).ConfigureAwait(false);
        await RecordAsync(action).ConfigureAwait(false);
    }

    private Task RecordAsync(ActionContext action)
    {
        if (!action.TryClaimRecord())
            return Task.CompletedTask;
        return recorder.RecordAsync(action);
    }

    /// <summary>The proxy's own answer: the perimeter's JSON refusal, the action id, and the connection closed.</summary>
    private static async Task WriteRefusalAsync(PipeWriter output, ActionContext action, int status, string code, string message)
    {
        action.Status = status;
        var body = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(body, RefusalFields.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("error", code);
            w.WriteString("message", message);
            RefusalFields.Write(w, action);
            w.WriteEndObject();
        }
        var reason = status switch { 400 => "Bad Request", 403 => "Forbidden", 407 => "Proxy Authentication Required", 429 => "Too Many Requests", 502 => "Bad Gateway", _ => "Service Unavailable" };
        var head = new StringBuilder()
            .Append("HTTP/1.1 ").Append(status).Append(' ').Append(reason).Append("\r\n")
            .Append(ActionResponses.ActionIdHeader).Append(": ").Append(action.ActionId).Append("\r\n")
            .Append("Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n")
            .Append("Content-Length: ").Append(body.WrittenCount).Append("\r\n");
        if (status == 407)
            head.Append("Proxy-Authenticate: Basic realm=\"agentperimeter\", charset=\"UTF-8\"\r\nProxy-Authenticate: Bearer realm=\"agentperimeter\"\r\n");
        head.Append("\r\n");
        try
        {
            await output.WriteAsync(Encoding.ASCII.GetBytes(head.ToString())).ConfigureAwait(false);
            await output.WriteAsync(body.WrittenMemory).ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or InvalidOperationException)
        {
            // The client went away: its action is recorded all the same.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Warning,
            Message = "Would deny egress {ActionId}: work type {WorkType} {Method} {Host}:{Port} (allowed by report-only rule {Rule})")]
        public static partial void WouldDeny(ILogger logger, string actionId, string workType, string method, string host, int port, string rule);

        [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Egress {ActionId} to {Host} closed: {Violation} (server name {Sni})")]
        public static partial void Violation(ILogger logger, string actionId, string violation, string host, string? sni);
    }
}
