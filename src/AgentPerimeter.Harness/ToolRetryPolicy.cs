using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Harness;

/// <summary>
/// The retry policy of one tool call: waits out a temporary refusal (as long as the gateway's
/// <c>retry_after_ms</c> asks), repeats a call that is safe to repeat after an upstream failure (under a
/// fresh idempotency key, since the first one's outcome is recorded as unknown), repeats a call that
/// could not reach the gateway (under the same key, so it runs at most once), and says when to give up.
/// </summary>
internal sealed class ToolRetryPolicy(bool safeToRepeat)
{
    public const int MaxWaits = 5;
    public const int MaxUpstreamRetries = 3;
    public const int MaxNetworkRetries = 5;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private int _waits, _upstreamRetries, _networkRetries;

    /// <summary>How many times the call was repeated after an upstream failure.</summary>
    public int UpstreamRetries => _upstreamRetries;

    public static RefusalKind Classify(string code) => code switch
    {
        RefusalCodes.RateLimited or RefusalCodes.RateLimitUnavailable or RefusalCodes.IdempotencyInProgress
            or RefusalCodes.IdempotencyUnavailable or RefusalCodes.TunnelUnavailable or RefusalCodes.AuditUnavailable => RefusalKind.Temporary,
        RefusalCodes.ApprovalRequired or RefusalCodes.ApprovalPending => RefusalKind.Approval,
        RefusalCodes.UpstreamUnavailable or RefusalCodes.UpstreamTimeout or RefusalCodes.IdempotencyOutcomeUnknown => RefusalKind.UpstreamFailure,
        _ => RefusalKind.Final,
    };

    /// <summary>How long to wait before asking again after a temporary refusal; null once it has waited <see cref="MaxWaits"/> times.</summary>
    public TimeSpan? NextWait(TimeSpan? retryAfter)
    {
        if (++_waits > MaxWaits)
            return null;
        return retryAfter is { } asked ? (asked > MaxRetryAfter ? MaxRetryAfter : asked) : TimeSpan.FromMilliseconds(500 * _waits);
    }

    /// <summary>The gateway no longer knows the approval (it restarted): whether to ask for a new one.</summary>
    public bool MayAskForApprovalAgain() => ++_waits <= MaxWaits;

    /// <summary>How long to wait before repeating the call after an upstream failure; null when it is not safe to repeat, or repeated enough.</summary>
    public TimeSpan? NextUpstreamRetry()
    {
        if (!safeToRepeat || _upstreamRetries >= MaxUpstreamRetries)
            return null;
        _upstreamRetries++;
        return Backoff(_upstreamRetries);
    }

    /// <summary>Whether a call that could not reach the gateway may be sent again.</summary>
    public bool MayRetryUnreachable => _networkRetries < MaxNetworkRetries;

    /// <summary>How long to wait before sending a call that could not reach the gateway again.</summary>
    public TimeSpan NextUnreachableRetry() => Backoff(++_networkRetries);

    private static TimeSpan Backoff(int retry) => TimeSpan.FromMilliseconds(500 * Math.Pow(2, retry - 1));
}
