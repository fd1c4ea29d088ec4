using System.Net.Http.Headers;
using System.Text;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Yarp.ReverseProxy.Transforms;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// YARP request transform, on every route: strips agent credentials, then injects what
/// <see cref="SecretsStage"/> chose — after every decision, at the last moment.
/// </summary>
internal sealed class SecretInjectionTransform(SecretScrubber scrubber, SecretStats stats, PerimeterMetrics metrics, TimeProvider time) : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var http = context.HttpContext;
        var action = http.FindAction();
        var catalog = http.Features.Get<PolicySnapshot>()?.Policy.Section<SecretCatalog>() ?? SecretCatalog.Empty;
        var request = context.ProxyRequest;

        // Before anything is stripped: a live secret value the agent sent — even in the very header the
        // gateway is about to replace — means the agent holds a secret (secrets axis: ungoverned).
        if (action is not null)
            CheckAgentCredentials(http, request, action);
        // Credential headers are request headers (HttpContent's headers reject such names).
        foreach (var header in catalog.StripHeaders)
            request.Headers.Remove(header);
        // Responses the gateway must read (secret scrubbing, MCP inspection) must come back uncompressed.
        if (action is not null && (action.Mcp is not null || (action.RouteId is { } r && catalog.BindingsByRoute.ContainsKey(r))))
            request.Headers.AcceptEncoding.Clear();
        if (action?.RouteId is { } route && catalog.BindingsByRoute.TryGetValue(route, out var bindings))
            StripBindingPlaces(context, bindings);
        if (action is null || http.Features.Get<SecretInjections>() is not { Items.Count: > 0 } injections)
            return ValueTask.CompletedTask;

        var now = time.GetUtcNow();
        foreach (var (binding, value) in injections.Items)
        {
            Inject(context, request, binding, value);
            action.SecretsInjected.Add(binding.Secret);
            metrics.SecretInjected(binding.Secret, binding.Route);
            stats.Injected(binding.Secret, now);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// An agent-supplied value where a binding puts a credential never reaches the upstream, whether or
    /// not this work type gets the gateway's.
    /// </summary>
    private static void StripBindingPlaces(RequestTransformContext context, SecretBinding[] bindings)
    {
        var request = context.ProxyRequest;
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

    /// <summary>
    /// Governed on the secrets axis only if no credential the agent supplied goes upstream: a value the
    /// gateway holds, sent by the agent in a header, the path or the query, means an agent has a secret.
    /// (Bodies are not searched.)
    /// </summary>
    private void CheckAgentCredentials(HttpContext http, HttpRequestMessage request, ActionContext action)
    {
        if (scrubber.IsEmpty)
            return;
        foreach (var h in request.Headers)
        {
            if (h.Value.Any(scrubber.Contains))
                action.SecretsGoverned = false;
        }
        if (scrubber.Contains(Uri.UnescapeDataString(http.Request.QueryString.Value ?? "")) || scrubber.Contains(http.Request.Path.Value ?? ""))
            action.SecretsGoverned = false;
    }

    private void Inject(RequestTransformContext context, HttpRequestMessage request, SecretBinding binding, string value)
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
    }
}
