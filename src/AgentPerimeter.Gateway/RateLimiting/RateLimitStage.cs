using AgentPerimeter.Protocol.Refusals;
using System.Globalization;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>
/// Rate-limit stage of the proxy pipeline, after the decision (so refused actions never spend budget)
/// and before secrets are injected. One store call per action spends all applicable limits. What it
/// observes is the action's outcome: limited, degraded (allowed unchecked) or unavailable.
/// </summary>
internal sealed class RateLimitStage(RequestDelegate next, IRateLimitStore store, PerimeterMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var action = context.GetAction();
        var limits = context.GetPolicy().Section<LimitCatalog>().For(action.WorkType!);
        if (limits.Rules.Length == 0)
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var applicable = new List<LimitRule>(limits.Rules.Length);
        foreach (var rule in limits.Rules)
        {
            if (rule.Applies(action.RouteId, action.Mcp?.Method, action.Mcp?.Target))
                applicable.Add(rule);
        }
        if (applicable.Count == 0)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var workType = action.WorkType!;
        var partition = limits.Partition == LimitPartition.Agent ? $"{workType}:agent:{action.AgentId}" : $"{workType}:session:{action.SessionId}";
        var result = await store.AcquireAsync(partition, applicable, context.RequestAborted).ConfigureAwait(false);

        if (result.StoreError is { } error)
        {
            metrics.RateLimitStoreError();
            if (limits.FailClosed)
            {
                metrics.RateLimit(workType, "unavailable");
                await ActionResponses.FailAsync(context, StatusCodes.Status503ServiceUnavailable, new ActionOutcome(OutcomeClass.Unavailable, RefusalCodes.RateLimitUnavailable,
                    Reason: "The perimeter cannot check this work type's rate limits right now, so it refuses the action. Retry shortly.",
                    RetryAfter: TimeSpan.FromSeconds(1))).ConfigureAwait(false);
                return;
            }
            metrics.RateLimit(workType, "degraded");
            action.SetOutcome(new ActionOutcome(OutcomeClass.Degraded, "ratelimit_degraded", Reason: $"Allowed without a rate-limit check: {error}."));
            await next(context).ConfigureAwait(false);
            return;
        }

        if (!result.Allowed)
        {
            metrics.RateLimit(workType, "limited");
            var limit = result.Limiting!;
            var seconds = Math.Max(1, (int)Math.Ceiling(result.RetryAfter.TotalSeconds));
            // Set as the response starts: the refusal writer clears whatever was set before it.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                headers["RateLimit-Policy"] = $"\"{limit.Id}\";q={limit.Limit};w={(long)Math.Ceiling(limit.Period.TotalSeconds)}";
                headers["RateLimit"] = $"\"{limit.Id}\";r=0;t={seconds}";
                return Task.CompletedTask;
            });
            // An MCP request gets this as a JSON-RPC refusal (HTTP 200, retry delay in data): its refusal writer decides.
            await ActionResponses.FailAsync(context, StatusCodes.Status429TooManyRequests, new ActionOutcome(OutcomeClass.Limited, RefusalCodes.RateLimited, limit.Id,
                $"Work type '{workType}' may take {limit.Limit} actions per {Describe(limit.Period)} under limit '{limit.Id}'; retry in {seconds} s.",
                result.RetryAfter)).ConfigureAwait(false);
            return;
        }

        metrics.RateLimit(workType, "allowed");
        await next(context).ConfigureAwait(false);
    }

    private static string Describe(TimeSpan period) =>
        period == TimeSpan.FromSeconds(1) ? "second" : period == TimeSpan.FromMinutes(1) ? "minute" : period == TimeSpan.FromHours(1) ? "hour" : $"{period.TotalSeconds:0.###} s";
}
