using System.Collections.Frozen;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// Loads <c>Perimeter:Secrets</c>, <c>Perimeter:StripHeaders</c> and each work type's <c>Secrets</c>
/// entitlement into the policy snapshot's <see cref="SecretCatalog"/>. The scrubber learns every value
/// it reads before any request can carry it.
/// </summary>
internal sealed class SecretsPolicySection(SecretLoadContext loadContext, SecretScrubber? scrubber = null) : IPolicySectionLoader
{
    public IReadOnlyCollection<string> RootKeys => ["Secrets", "StripHeaders"];

    public IReadOnlyCollection<string> WorkTypeKeys => ["Secrets"];

    public object Load(PolicySectionContext context)
    {
        var catalog = SecretLoader.Load(context.Root, context.KnownRoutes, loadContext, context.Errors);
        var entitled = new Dictionary<string, FrozenSet<string>>(StringComparer.Ordinal);
        foreach (var workType in context.WorkTypes)
        {
            var section = context.Root.GetSection("WorkTypes").GetSection(workType);
            var names = ConfigReader.ReadList(section, "Secrets", context.Errors) ?? [];
            foreach (var secret in names)
            {
                if (!catalog.Secrets.ContainsKey(secret))
                    context.Errors.Add($"{section.Path}:Secrets: secret '{secret}' is not declared in Perimeter:Secrets. Declared: {(catalog.Secrets.Count == 0 ? "none" : string.Join(", ", catalog.Secrets.Keys.Order()))}.");
            }
            entitled[workType] = names.ToFrozenSet(StringComparer.Ordinal);
        }
        if (scrubber is not null)
        {
            foreach (var secret in catalog.Secrets.Values)
            {
                if (secret.Read().Value is { } value)
                    scrubber.Remember(secret.Name, value);
            }
        }
        return new SecretCatalog
        {
            Secrets = catalog.Secrets,
            BindingsByRoute = catalog.BindingsByRoute,
            StripHeaders = catalog.StripHeaders,
            EntitledByWorkType = entitled.ToFrozenDictionary(StringComparer.Ordinal),
        };
    }
}
