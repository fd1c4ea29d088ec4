using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using Microsoft.Extensions.Primitives;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Holds the running policy and swaps it when the policy or route files change. A new version that
/// fails validation is refused with every error logged; the running one stays.
/// </summary>
public sealed partial class PolicyStore : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly ILogger<PolicyStore> _logger;
    private readonly PerimeterMetrics _metrics;
    private readonly IDisposable _subscription;
    private readonly IPolicySectionLoader[] _sections;
    private readonly IActionRecorder? _recorder;
    private volatile PerimeterPolicy _current;

    public PolicyStore(IConfiguration configuration, ILogger<PolicyStore> logger, PerimeterMetrics metrics, IEnumerable<IPolicySectionLoader> sections,
        IActionRecorder? recorder = null)
    {
        _recorder = recorder;
        _configuration = configuration;
        _logger = logger;
        _metrics = metrics;
        _sections = [.. sections];
        var result = PolicyLoader.Load(configuration, KnownRoutes(configuration), _sections);
        if (!result.IsValid)
            throw new PolicyValidationException(result.Errors);
        _current = result.Policy!;
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
        PolicyLoadResult result;
        try
        {
            result = PolicyLoader.Load(_configuration, KnownRoutes(_configuration), _sections);
        }
        catch (Exception ex)
        {
            // A half-written file can fail to parse; keep the running policy.
            result = new PolicyLoadResult(null, [$"policy could not be read: {ex.Message}"]);
        }

        if (!result.IsValid)
        {
            foreach (var error in result.Errors)
                Log.ReloadError(_logger, error);
            Log.ReloadRefused(_logger, result.Errors.Count, _current.Version);
            _metrics.PolicyReload(applied: false);
            Record("policy_reload_refused", new("running_version", _current.Version), new("errors", result.Errors.Count),
                new("first_error", result.Errors.Count > 0 ? result.Errors[0] : null));
            return;
        }

        if (result.Policy!.Version == _current.Version)
            return;
        var previous = _current.Version;
        _current = result.Policy;
        Record("policy_reload_applied", new("version", _current.Version), new("previous_version", previous));
        _metrics.PolicyReload(applied: true);
        Log.PolicyLoaded(_logger, _current.Version, _current.WorkTypes.Count);
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
