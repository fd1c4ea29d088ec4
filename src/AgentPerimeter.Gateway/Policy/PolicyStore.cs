using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using Microsoft.Extensions.Primitives;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Holds the running policy and swaps it, together with the route table YARP serves
/// (<see cref="RouteGate"/>), when the policy or route files change. A change is applied whole or not
/// at all: each file must be JSON, the routes valid (<see cref="RouteConfigCheck"/>) and the policy
/// valid against them; otherwise every error is logged, the reload counted as rejected and recorded,
/// and the running routes and policy both stay.
/// </summary>
public sealed partial class PolicyStore : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly ILogger<PolicyStore> _logger;
    private readonly PerimeterMetrics _metrics;
    private readonly IDisposable _subscription;
    private readonly IPolicySectionLoader[] _sections;
    private readonly IActionRecorder? _recorder;
    private readonly RouteGate? _gate;
    private readonly ConfigFiles? _files;
    private readonly Lock _reloadLock = new();
    private volatile PerimeterPolicy _current;

    public PolicyStore(IConfiguration configuration, ILogger<PolicyStore> logger, PerimeterMetrics metrics, IEnumerable<IPolicySectionLoader> sections,
        IActionRecorder? recorder = null, RouteGate? gate = null, ConfigFiles? files = null)
    {
        _recorder = recorder;
        _gate = gate;
        _files = files;
        _configuration = configuration;
        _logger = logger;
        _metrics = metrics;
        _sections = [.. sections];
        var result = PolicyLoader.Load(configuration, KnownRoutes(configuration), _sections);
        if (!result.IsValid)
            throw new PolicyValidationException(result.Errors);
        _current = result.Policy!;
        PrimeMetrics();
        Log.PolicyLoaded(_logger, _current.Version, _current.WorkTypes.Count);
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>
    /// The running policy. Read it once per action (<see cref="PolicySnapshotMiddleware"/>) and carry it:
    /// a reload mid-request must not make two stages decide on two versions.
    /// </summary>
    public PerimeterPolicy Current => _current;

    /// <summary>Route ids defined in <c>ReverseProxy:Routes</c>.</summary>
    public static IReadOnlySet<string> KnownRoutes(IConfiguration configuration) =>
        configuration.GetSection("ReverseProxy:Routes").GetChildren().Select(c => c.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Route ids whose metadata marks them as MCP (<c>"Perimeter.Mcp": "true"</c>).</summary>
    public static IReadOnlySet<string> McpRoutes(IConfiguration configuration) =>
        configuration.GetSection("ReverseProxy:Routes").GetChildren()
            .Where(c => string.Equals(c["Metadata:Perimeter.Mcp"], "true", StringComparison.OrdinalIgnoreCase))
            .Select(c => c.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    internal void Reload()
    {
        lock (_reloadLock)
            ReloadLocked();
    }

    private void ReloadLocked()
    {
        var errors = new List<string>();
        // A file caught half-written is not JSON: its keys are missing from the configuration now, so
        // nothing else is read until it parses.
        if (_files is not null)
        {
            RouteConfigCheck.CheckJsonFile(_files.Routes, errors);
            RouteConfigCheck.CheckJsonFile(_files.Policy, errors);
        }
        PolicyLoadResult? result = null;
        if (errors.Count == 0)
        {
            RouteConfigCheck.CheckRoutes(_configuration, errors);
            try
            {
                result = PolicyLoader.Load(_configuration, KnownRoutes(_configuration), _sections);
                errors.AddRange(result.Errors);
            }
            catch (Exception ex)
            {
                errors.Add($"policy could not be read: {ex.Message}");
            }
        }

        if (errors.Count > 0)
        {
            foreach (var error in errors)
                Log.ReloadError(_logger, error);
            Log.ReloadRefused(_logger, errors.Count, _current.Version);
            _metrics.PolicyReload(applied: false);
            Record("policy_reload_refused", new("running_version", _current.Version), new("errors", errors.Count),
                new("first_error", errors[0]));
            return;
        }

        bool routesChanged = _gate is not null && !_gate.Matches(_configuration);
        bool policyChanged = result!.Policy!.Version != _current.Version;
        if (!routesChanged && !policyChanged)
            return;
        var previous = _current.Version;
        // The policy first: a new rule for a new route is in place before the route can match.
        _current = result.Policy;
        if (routesChanged)
            _gate!.Open(_configuration);
        PrimeMetrics();
        Record("policy_reload_applied", new("version", _current.Version), new("previous_version", previous), new("routes_changed", routesChanged ? "true" : "false"));
        _metrics.PolicyReload(applied: true);
        Log.PolicyLoaded(_logger, _current.Version, _current.WorkTypes.Count);
    }

    /// <summary>The alert-relevant series of the running policy, at zero (see <see cref="PerimeterMetrics.Prime"/>).</summary>
    private void PrimeMetrics()
    {
        var mcp = McpRoutes(_configuration);
        _metrics.Prime(_current.WorkTypes.Values.SelectMany(w => w.Rules.Select(r => r.Route).Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(route => (w.Name, route, mcp.Contains(route) ? "mcp" : "http"))));
    }

    /// <summary>A reload is an operator action (someone changed the files): a record of the chain, not awaited (reloads run on a file-watcher thread).</summary>
    private void Record(string eventName, params KeyValuePair<string, object?>[] fields) =>
        _ = _recorder?.RecordEventAsync(new PerimeterEvent("operator", eventName, [new("operator", "config-files"), .. fields]));

    public void Dispose() => _subscription.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Perimeter policy {Version} loaded with {WorkTypeCount} work types")]
        public static partial void PolicyLoaded(ILogger logger, string version, int workTypeCount);

        [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Policy reload error: {Error}")]
        public static partial void ReloadError(ILogger logger, string error);

        [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Policy reload refused ({ErrorCount} errors); still running policy {Version}")]
        public static partial void ReloadRefused(ILogger logger, int errorCount, string version);
    }
}
