using AgentPerimeter.Protocol.Refusals;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// On the inbound listener, after the action opens: the host name must be
/// <c>&lt;server&gt;.&lt;domain&gt;</c> for a configured server, or the request is refused (421, audited).
/// Routes reachable there are the ones bound to those host names (<c>Match.Hosts</c>).
/// </summary>
internal sealed class InboundHostMiddleware(RequestDelegate next, InboundOptions options)
{
    private readonly string _suffix = "." + (options.Domain ?? "").Trim('.').ToLowerInvariant();
    private readonly HashSet<string> _servers = options.Servers.Select(s => s.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetListener() != ListenerKind.Inbound)
            return next(context);
        var action = context.GetAction();
        if (context.Connection.ClientCertificate is { } certificate)
            action.InboundClient = $"{certificate.Subject} ({certificate.Thumbprint})";
        var host = context.Request.Host.Host.TrimEnd('.').ToLowerInvariant();
        if (host.EndsWith(_suffix, StringComparison.Ordinal) && _servers.Contains(host[..^_suffix.Length]))
            return next(context);
        return ActionResponses.RefuseAsync(context, StatusCodes.Status421MisdirectedRequest,
            new PolicyDecision(DecisionOutcome.NotFound, RefusalCodes.UnknownHost, null,
                $"This inbound listener serves <server>{_suffix} for its configured servers only; '{ActionResponses.Printable(host, 128)}' is not one of them."));
    }

}
