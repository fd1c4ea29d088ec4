using System.Collections.Frozen;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>Loads <c>WorkTypes:NAME:RateLimits</c> into the policy snapshot's <see cref="LimitCatalog"/>.</summary>
internal sealed class LimitsPolicySection : IPolicySectionLoader
{
    private static readonly string[] RateLimitKeys = ["Partition", "FailureMode", "Limits"];
    private static readonly string[] LimitKeys = ["Id", "Limit", "Period", "Route", "Tools"];

    public IReadOnlyCollection<string> RootKeys => [];

    public IReadOnlyCollection<string> WorkTypeKeys => ["RateLimits"];

    public object Load(PolicySectionContext context)
    {
        var byWorkType = new Dictionary<string, WorkTypeLimits>(StringComparer.Ordinal);
        foreach (var workType in context.WorkTypes)
        {
            var section = context.Root.GetSection("WorkTypes").GetSection(workType).GetSection("RateLimits");
            if (section.Exists())
                byWorkType[workType] = LoadLimits(section, context);
        }
        return new LimitCatalog { ByWorkType = byWorkType.ToFrozenDictionary(StringComparer.Ordinal) };
    }

    private static WorkTypeLimits LoadLimits(IConfigurationSection section, PolicySectionContext context)
    {
        var errors = context.Errors;
        ConfigReader.CheckKeys(section, RateLimitKeys, errors);
        var partition = section["Partition"] ?? "session";
        if (partition is not ("session" or "agent"))
            errors.Add($"{section.Path}:Partition: '{partition}' is not a partition. Use \"session\" (each session its own budget) or \"agent\" (an agent's sessions share one).");
        var failure = section["FailureMode"] ?? "closed";
        if (failure is not ("closed" or "open"))
            errors.Add($"{section.Path}:FailureMode: '{failure}' is not a mode. Use \"closed\" (refuse with 503 when the limit store is unreachable) or \"open\" (allow, audited as degraded).");
        var rules = new List<LimitRule>();
        foreach (var l in section.GetSection("Limits").GetChildren())
        {
            ConfigReader.CheckKeys(l, LimitKeys, errors);
            var id = l["Id"];
            if (string.IsNullOrWhiteSpace(id))
                errors.Add($"{l.Path}:Id: every limit needs an Id (it names the limit in RateLimit-Policy and audit records).");
            else if (!context.Ids.Add(id))
                errors.Add($"{l.Path}:Id: id '{id}' is used twice. Rule and limit ids must be unique.");
            if (!int.TryParse(l["Limit"], out var limit) || limit <= 0)
                errors.Add($"{l.Path}:Limit: must be a positive number of actions, e.g. 60.");
            if (!TimeSpan.TryParse(l["Period"], System.Globalization.CultureInfo.InvariantCulture, out var period) || period < TimeSpan.FromMilliseconds(1))
                errors.Add($"{l.Path}:Period: must be a duration such as \"00:01:00\" (one minute) or \"00:00:01\".");
            var route = l["Route"];
            // "egress" names the sandbox egress listener's actions (new tunnels and plain HTTP requests).
            if (route is not null && route != "egress" && context.KnownRoutes is not null && !context.KnownRoutes.Contains(route))
                errors.Add($"{l.Path}:Route: route '{route}' is not defined in ReverseProxy:Routes.");
            var tools = ConfigReader.ReadGlobs(l, "Tools", errors);
            if (id is not null && limit > 0 && period > TimeSpan.Zero)
                rules.Add(new LimitRule { Id = id, Limit = limit, Period = period, Route = route, Tools = tools });
        }
        return new WorkTypeLimits
        {
            Rules = [.. rules],
            Partition = partition == "agent" ? LimitPartition.Agent : LimitPartition.Session,
            FailClosed = failure != "open",
        };
    }
}
