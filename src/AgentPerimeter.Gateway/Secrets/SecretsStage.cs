using System.Net.Http.Headers;
using System.Text;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Yarp.ReverseProxy.Transforms;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>A secret value chosen for one action, injected by the transform at the last moment.</summary>
internal sealed record PendingInjection(SecretBinding Binding, string Value);

/// <summary>
/// Secrets stage of the proxy pipeline (after every policy decision): works out which of the route's
/// bindings the caller's work type is entitled to, refuses where a binding says so, and leaves the
/// values for <see cref="InjectAsync"/>, the YARP request transform that strips the agent's credentials
/// and adds the gateway's.
/// </summary>
internal static class SecretsStage
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var action = context.GetAction();
        var policy = context.RequestServices.GetRequiredService<PolicyStore>().Current;
        if (policy.Secrets.BindingsByRoute.TryGetValue(action.RouteId!, out var bindings))
        {
            var entitled = policy.WorkTypes.TryGetValue(action.WorkType!, out var wt) ? wt.Secrets : null;
            var scrubber = context.RequestServices.GetRequiredService<SecretScrubber>();
            var injections = new List<PendingInjection>(bindings.Length);
            foreach (var binding in bindings)
            {
                if (entitled is null || !entitled.Contains(binding.Secret))
                {
                    if (binding.RefuseWhenNotEntitled)
                    {
                        await ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden,
                            new PolicyDecision(DecisionOutcome.Deny, "secret_not_entitled", action.Decision.RuleId,
                                $"Work type '{action.WorkType}' is not entitled to the credential route '{action.RouteId}' requires.")).ConfigureAwait(false);
                        return;
                    }
                    continue;
                }
                var read = policy.Secrets.Secrets[binding.Secret].Read();
                if (read.Value is null)
                {
                    await ActionResponses.RefuseAsync(context, StatusCodes.Status503ServiceUnavailable,
                        new PolicyDecision(DecisionOutcome.Unavailable, "secret_unavailable", action.Decision.RuleId,
                            $"A credential route '{action.RouteId}' needs is unavailable right now.")).ConfigureAwait(false);
                    return;
                }
                scrubber.Remember(binding.Secret, read.Value);
                injections.Add(new PendingInjection(binding, read.Value));
            }
            action.Injections = injections;
        }
        await next().ConfigureAwait(false);
    }

    /// <summary>YARP request transform: strip agent credentials, then inject (for every route).</summary>
    public static ValueTask InjectAsync(RequestTransformContext context)
    {
        var http = context.HttpContext;
        var action = http.Features.Get<IActionFeature>()?.Action;
        var policy = http.RequestServices.GetRequiredService<PolicyStore>().Current;
        var request = context.ProxyRequest;

        // Credential headers are request headers (HttpContent's headers reject such names).
        foreach (var header in policy.Secrets.StripHeaders)
            request.Headers.Remove(header);
        // Responses the gateway must read (secret scrubbing, MCP inspection) must come back uncompressed.
        if (action is not null && (action.Mcp is not null || (action.RouteId is { } r && policy.Secrets.BindingsByRoute.ContainsKey(r))))
            request.Headers.AcceptEncoding.Clear();
        if (action?.RouteId is { } route && policy.Secrets.BindingsByRoute.TryGetValue(route, out var bindings))
        {
            // An agent-supplied value where a binding puts a credential never reaches the upstream,
            // whether or not this work type gets the gateway's.
            foreach (var b in bindings)
            {
                if (b.Kind == InjectionKind.Query)
                    context.Query.Collection.Remove(b.Name!);
                else if (b.Kind == InjectionKind.Header)
                    request.Headers.Remove(b.Name!);
            }
            // A byte range could cut an echoed secret into pieces too short to recognise.
            request.Headers.Range = null;
            request.Headers.Remove("If-Range");
        }
        // Governed on the secrets axis only if no credential the agent supplied goes upstream: a value
        // the gateway holds, sent by the agent in a header, the path or the query, means an agent has a
        // secret. (Bodies are not searched.)
        var scrubber = http.RequestServices.GetRequiredService<SecretScrubber>();
        if (action is not null && !scrubber.IsEmpty)
        {
            foreach (var h in request.Headers)
            {
                if (h.Value.Any(scrubber.Contains))
                    action.SecretsGoverned = false;
            }
            if (scrubber.Contains(Uri.UnescapeDataString(http.Request.QueryString.Value ?? "")) || scrubber.Contains(http.Request.Path.Value ?? ""))
                action.SecretsGoverned = false;
        }
        if (action?.Injections is not { Count: > 0 } injections)
            return ValueTask.CompletedTask;

        var metrics = http.RequestServices.GetRequiredService<PerimeterMetrics>();
        var stats = http.RequestServices.GetRequiredService<SecretStats>();
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        foreach (var (binding, value) in injections)
        {
            switch (binding.Kind)
            {
                case InjectionKind.Bearer:
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", value);
                    break;
                case InjectionKind.Basic:
                    var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{binding.Username}:{value}"));
                    scrubber.Remember(binding.Secret, basic); // the form an upstream would echo
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                    break;
                case InjectionKind.Header:
                    request.Headers.Remove(binding.Name!);
                    request.Headers.TryAddWithoutValidation(binding.Name!, binding.Format.Replace("{secret}", value, StringComparison.Ordinal));
                    break;
                case InjectionKind.Query:
                    context.Query.Collection[binding.Name!] = value;
                    break;
            }
            action.SecretsInjected.Add(binding.Secret);
            metrics.SecretInjected(binding.Secret, binding.Route);
            stats.Injected(binding.Secret, now);
        }
        return ValueTask.CompletedTask;
    }
}
