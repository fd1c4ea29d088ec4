using Yarp.ReverseProxy.Transforms;

namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// Request headers whose names hold an underscore are dropped before forwarding, as nginx and Envoy do by
/// default: a CGI-style upstream maps <c>X_Api_Key</c> and <c>X-Api-Key</c> to the same variable, so an
/// agent could smuggle a value past a check (or a strip) made on the hyphenated name.
/// </summary>
internal sealed class HeaderHygieneTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var request = context.ProxyRequest;
        foreach (var name in request.Headers.Select(h => h.Key).Where(n => n.Contains('_')).ToList())
            request.Headers.Remove(name);
        if (request.Content is { } content)
        {
            foreach (var name in content.Headers.Select(h => h.Key).Where(n => n.Contains('_')).ToList())
                content.Headers.Remove(name);
        }
        return ValueTask.CompletedTask;
    }
}
