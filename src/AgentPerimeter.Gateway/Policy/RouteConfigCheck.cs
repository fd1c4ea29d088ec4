using System.Text.Json;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Checks of the configuration files that YARP would otherwise take as they come: each file is JSON
/// (with the file, line and column of a syntax error), and the <c>ReverseProxy</c> section has only
/// keys YARP reads, a known cluster for every route, a <c>Match</c> with a valid path pattern or hosts,
/// and destinations with absolute addresses. Run at startup, by <c>--check</c> and on every reload,
/// so a half-written or mistyped <c>routes.json</c> never reaches the route table.
/// </summary>
public static class RouteConfigCheck
{
    // The same leniency as the configuration's own JSON reader (comments, trailing commas), but a key
    // given twice is an error: which of the two would win is not something to leave to chance.
    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false,
    };

    private static readonly HashSet<string> RouteKeys = Keys("ClusterId", "Match", "Order", "Metadata", "Transforms", "AuthorizationPolicy",
        "CorsPolicy", "RateLimiterPolicy", "OutputCachePolicy", "TimeoutPolicy", "Timeout", "MaxRequestBodySize");
    private static readonly HashSet<string> MatchKeys = Keys("Path", "Hosts", "Methods", "Headers", "QueryParameters");
    private static readonly HashSet<string> ClusterKeys = Keys("Destinations", "LoadBalancingPolicy", "SessionAffinity", "HealthCheck",
        "HttpClient", "HttpRequest", "Metadata");
    private static readonly HashSet<string> DestinationKeys = Keys("Address", "Health", "Host", "Metadata");

    private static HashSet<string> Keys(params string[] keys) => new(keys, StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds an error when <paramref name="path"/> is missing or not JSON (1-based line and column).</summary>
    public static void CheckJsonFile(string path, List<string> errors)
    {
        if (!File.Exists(path))
        {
            errors.Add($"{path}: the file does not exist.");
            return;
        }
        try
        {
            using var _ = JsonDocument.Parse(File.ReadAllBytes(path), JsonOptions);
        }
        catch (JsonException ex)
        {
            errors.Add(Describe(path, ex));
        }
        catch (IOException ex)
        {
            errors.Add($"{path}: could not be read: {ex.Message}");
        }
    }

    /// <summary>A JSON syntax error as an operator reads it: the file, 1-based line and column, and the reason without the reader's internals.</summary>
    public static string Describe(string file, JsonException ex)
    {
        var detail = ex.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0];
        return $"{file}: line {(ex.LineNumber ?? 0) + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: not valid JSON: {detail}";
    }

    /// <summary>Adds an error for each problem of the <c>ReverseProxy</c> section.</summary>
    public static void CheckRoutes(IConfiguration configuration, List<string> errors)
    {
        var clusters = configuration.GetSection("ReverseProxy:Clusters").GetChildren().ToList();
        var clusterIds = clusters.Select(c => c.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var key in configuration.GetSection("ReverseProxy").GetChildren().Select(c => c.Key).Where(k => k is not ("Routes" or "Clusters")))
            errors.Add($"ReverseProxy:{key}: not a key YARP reads (Routes and Clusters are).");

        foreach (var route in configuration.GetSection("ReverseProxy:Routes").GetChildren())
        {
            Unknown(route, RouteKeys, errors);
            var clusterId = route["ClusterId"];
            if (string.IsNullOrEmpty(clusterId))
                errors.Add($"{route.Path}:ClusterId: a route needs the cluster it forwards to.");
            else if (!clusterIds.Contains(clusterId))
                errors.Add($"{route.Path}:ClusterId: cluster '{clusterId}' is not defined in ReverseProxy:Clusters.");
            var match = route.GetSection("Match");
            Unknown(match, MatchKeys, errors);
            var path = match["Path"];
            if (string.IsNullOrEmpty(path) && !match.GetSection("Hosts").GetChildren().Any())
                errors.Add($"{route.Path}:Match: a route needs a Path or Hosts to match.");
            if (!string.IsNullOrEmpty(path))
            {
                try
                {
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse(path);
                }
                catch (Microsoft.AspNetCore.Routing.Patterns.RoutePatternException ex)
                {
                    errors.Add($"{route.Path}:Match:Path: '{path}' is not a valid route pattern: {ex.Message}");
                }
            }
            if (route["Order"] is { } order && !int.TryParse(order, out _))
                errors.Add($"{route.Path}:Order: '{order}' is not a whole number.");
        }

        foreach (var cluster in clusters)
        {
            Unknown(cluster, ClusterKeys, errors);
            var destinations = cluster.GetSection("Destinations").GetChildren().ToList();
            if (destinations.Count == 0)
                errors.Add($"{cluster.Path}:Destinations: a cluster needs at least one destination.");
            foreach (var destination in destinations)
            {
                Unknown(destination, DestinationKeys, errors);
                var address = destination["Address"];
                if (string.IsNullOrEmpty(address))
                    errors.Add($"{destination.Path}:Address: a destination needs an address, e.g. \"http://10.0.0.5:8080/\".");
                else if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "tunnel") || string.IsNullOrEmpty(uri.Host))
                    errors.Add($"{destination.Path}:Address: '{address}' is not an absolute http://, https:// or tunnel:// address.");
            }
        }
    }

    private static void Unknown(IConfigurationSection section, HashSet<string> known, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            if (!known.Contains(child.Key))
                errors.Add($"{child.Path}: not a key YARP reads here (known: {string.Join(", ", known.Order(StringComparer.Ordinal))}).");
        }
    }
}
