namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// The <c>ReverseProxy</c> configuration YARP reads, held back until a reload has been validated
/// whole: YARP is given this provider instead of the files, so a half-written or invalid
/// <c>routes.json</c> never empties or changes the route table — only <see cref="PolicyStore"/>, once
/// the routes and the policy both pass, moves it forward, together with the policy.
/// </summary>
public sealed class RouteGate : ConfigurationProvider, IConfigurationSource
{
    public RouteGate(IConfiguration initial) => Data = Snapshot(initial);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>True when <paramref name="configuration"/>'s routes and clusters are the ones YARP has now.</summary>
    public bool Matches(IConfiguration configuration)
    {
        var next = Snapshot(configuration);
        return next.Count == Data.Count && next.All(kv => Data.TryGetValue(kv.Key, out var v) && string.Equals(v, kv.Value, StringComparison.Ordinal));
    }

    /// <summary>Hands YARP the routes and clusters of <paramref name="configuration"/> (YARP reloads on the signal).</summary>
    public void Open(IConfiguration configuration)
    {
        Data = Snapshot(configuration);
        OnReload();
    }

    private static Dictionary<string, string?> Snapshot(IConfiguration configuration) =>
        configuration.GetSection("ReverseProxy").AsEnumerable()
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
}
