using StackExchange.Redis;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>
/// GCRA in Redis: one atomic Lua script per action spends every applicable limit or none, on Redis's
/// own clock (<c>TIME</c>), so any number of gateway replicas enforce one budget. All keys of an action
/// share a hash tag (the partition), so they live in one Redis Cluster slot. A call that does not
/// answer within the configured timeout is a store failure, decided by the work type's failure mode.
/// </summary>
public sealed partial class RedisRateLimitStore : IRateLimitStore
{
    // KEYS: one per limit. ARGV: emission interval and period (µs) per limit.
    // Returns {1, remaining, 0} or {0, retry-after µs, index of the limit that refused}.
    private const string Script = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local retry, limiting, remaining = 0, 0, -1
        local tats = {}
        for i = 1, #KEYS do
          local emission = tonumber(ARGV[2 * i - 1])
          local period = tonumber(ARGV[2 * i])
          local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
          if tat < now then tat = now end
          local new_tat = tat + emission
          if new_tat - now > period then
            local r = new_tat - period - now
            if r > retry then retry = r; limiting = i end
          end
          tats[i] = new_tat
          local left = math.floor((period - (new_tat - now)) / emission)
          if remaining < 0 or left < remaining then remaining = left end
        end
        if retry > 0 then return {0, retry, limiting} end
        for i = 1, #KEYS do
          local period = tonumber(ARGV[2 * i])
          redis.call('SET', KEYS[i], tats[i], 'PX', math.floor(period / 1000) + 1000)
        end
        return {1, remaining, 0}
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly TimeSpan _timeout;
    private readonly string _prefix;
    private readonly ILogger<RedisRateLimitStore> _logger;
    private volatile string? _problem;

    public RedisRateLimitStore(IConnectionMultiplexer redis, TimeSpan timeout, string prefix, ILogger<RedisRateLimitStore> logger)
    {
        _redis = redis;
        _timeout = timeout;
        _prefix = prefix;
        _logger = logger;
        // Load the script before the first action needs it, and again after every reconnect, so no
        // action pays for a script load inside its few-millisecond budget.
        _redis.ConnectionRestored += (_, _) => _ = WarmOnceAsync();
        _redis.ConnectionFailed += (_, _) => _ready = false;
        _ = WarmOnceAsync();
    }

    private volatile bool _ready;

    /// <summary>
    /// Ready once a command has gone through on the connection actions use (the script load proves it);
    /// not ready while it is down. A single slow answer does not take a replica out of rotation.
    /// </summary>
    public string? Problem => _ready && _redis.IsConnected ? null : _problem ?? "redis is not connected";

    private readonly Lock _warmLock = new();
    private Task? _warmTask;

    /// <summary>The script load in flight, or a new one if none is.</summary>
    private Task WarmOnceAsync()
    {
        lock (_warmLock)
        {
            if (_warmTask is null || _warmTask.IsCompleted)
                _warmTask = WarmAsync();
            return _warmTask;
        }
    }

    private async Task WarmAsync()
    {
        try
        {
            if (!_redis.IsConnected)
                return;
            foreach (var endpoint in _redis.GetEndPoints())
                await _redis.GetServer(endpoint).ScriptLoadAsync(Script).ConfigureAwait(false);
            _ready = true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or NotSupportedException)
        {
            Log.StoreFailed(_logger, $"could not preload the rate-limit script ({ex.GetType().Name})");
        }
    }

    public async ValueTask<RateLimitResult> AcquireAsync(string partition, IReadOnlyList<LimitRule> limits, CancellationToken cancellationToken)
    {
        var keys = new RedisKey[limits.Count];
        var args = new RedisValue[limits.Count * 2];
        for (int i = 0; i < limits.Count; i++)
        {
            // "{partition}" is the hash tag: every key of one action lands in the same cluster slot.
            keys[i] = $"{_prefix}:rl:{{{partition}}}:{limits[i].Id}";
            args[2 * i] = limits[i].EmissionMicros;
            args[2 * i + 1] = limits[i].PeriodMicros;
        }
        // Until the connection is back and the script loaded, do not send: a call that timed out on a cold
        // connection could still run later and spend budget nobody was answered for.
        if (!_ready && _redis.IsConnected)
        {
            // Connected but the script is not loaded yet (just started, just reconnected): the first
            // actions wait for the one load in flight, within their own timeout, rather than fail closed.
            try
            {
                await WarmOnceAsync().WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        if (!_ready || !_redis.IsConnected)
            return Fail("redis is not connected (or reconnecting)");
        try
        {
            // The timeout bounds the wait. (A call that runs after its action was refused still spends
            // budget: limits err on the strict side.)
            var result = (RedisResult[]?)await _redis.GetDatabase().ScriptEvaluateAsync(Script, keys, args)
                .WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
            _problem = null;
            _ready = true;
            if ((long)result![0] == 1)
                return new RateLimitResult(true, TimeSpan.Zero, null, (long)result[1], null);
            return new RateLimitResult(false, TimeSpan.FromMicroseconds((long)result[1]), limits[(int)(long)result[2] - 1], 0, null);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Fail(ex is TimeoutException ? $"redis did not answer within {_timeout.TotalMilliseconds} ms" : $"redis error ({ex.GetType().Name})");
        }
    }

    private RateLimitResult Fail(string problem)
    {
        _problem = problem;
        Log.StoreFailed(_logger, problem);
        return RateLimitResult.Failed(problem);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "Rate-limit store failed: {Problem}")]
        public static partial void StoreFailed(ILogger logger, string problem);
    }
}
