using System.Globalization;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Mcp;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.RateLimiting;

/// <summary>
/// Rate-limit stage of the proxy pipeline, after every policy decision (so refused actions never spend
/// budget) and before secrets are injected. One store call per action spends all applicable limits.
/// </summary>
internal static class RateLimitStage
{
    public static async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var action = context.GetAction();
        var policy = context.RequestServices.GetRequiredService<PolicyStore>().Current;
        if (!policy.WorkTypes.TryGetValue(action.WorkType!, out var wt) || wt.Limits.Rules.Length == 0)
        {
            await next().ConfigureAwait(false);
            return;
        }
        var applicable = new List<LimitRule>(wt.Limits.Rules.Length);
        foreach (var rule in wt.Limits.Rules)
        {
            if (rule.Applies(action.RouteId, action.Mcp?.Method, action.Mcp?.Target))
                applicable.Add(rule);
        }
        if (applicable.Count == 0)
        {
            await next().ConfigureAwait(false);
            return;
        }

        var partition = wt.Limits.Partition == LimitPartition.Agent ? $"{wt.Name}:agent:{action.AgentId}" : $"{wt.Name}:session:{action.SessionId}";
        var store = context.RequestServices.GetRequiredService<IRateLimitStore>();
        var metrics = context.RequestServices.GetRequiredService<PerimeterMetrics>();
        var result = await store.AcquireAsync(partition, applicable, context.RequestAborted).ConfigureAwait(false);

        if (result.StoreError is { } error)
        {
            metrics.RateLimitStoreError();
            if (wt.Limits.FailClosed)
            {
                metrics.RateLimit(wt.Name, "unavailable");
                var decision = new PolicyDecision(DecisionOutcome.Unavailable, "ratelimit_unavailable", action.Decision.RuleId,
                    "The perimeter cannot check this work type's rate limits right now, so it refuses the action. Retry shortly.");
                await RefuseAsync(context, action, StatusCodes.Status503ServiceUnavailable, decision, TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                return;
            }
            metrics.RateLimit(wt.Name, "degraded");
            action.Decision = new PolicyDecision(DecisionOutcome.Degraded, "ratelimit_degraded", action.Decision.RuleId,
                $"Allowed without a rate-limit check: {error}.");
            await next().ConfigureAwait(false);
            return;
        }

        if (!result.Allowed)
        {
            metrics.RateLimit(wt.Name, "limited");
            var limit = result.Limiting!;
            var seconds = Math.Max(1, (int)Math.Ceiling(result.RetryAfter.TotalSeconds));
            var decision = new PolicyDecision(DecisionOutcome.RateLimited, "rate_limited", limit.Id,
                $"Work type '{wt.Name}' may take {limit.Limit} actions per {Describe(limit.Period)} under limit '{limit.Id}'; retry in {seconds} s.");
            // Set as the response starts: the refusal writer clears whatever was set before it.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                headers["RateLimit-Policy"] = $"\"{limit.Id}\";q={limit.Limit};w={(long)Math.Ceiling(limit.Period.TotalSeconds)}";
                headers["RateLimit"] = $"\"{limit.Id}\";r=0;t={seconds}";
                return Task.CompletedTask;
            });
            await RefuseAsync(context, action, StatusCodes.Status429TooManyRequests, decision, result.RetryAfter).ConfigureAwait(false);
            return;
        }

        metrics.RateLimit(wt.Name, "allowed");
        await next().ConfigureAwait(false);
    }

    private static Task RefuseAsync(HttpContext context, ActionContext action, int status, PolicyDecision decision, TimeSpan retryAfter)
    {
        action.RetryAfter = retryAfter;
        // An MCP request gets this as a JSON-RPC refusal (HTTP 200, retry delay in data): ActionResponses decides.
        return ActionResponses.RefuseAsync(context, status, decision);
    }

    private static string Describe(TimeSpan period) =>
        period == TimeSpan.FromSeconds(1) ? "second" : period == TimeSpan.FromMinutes(1) ? "minute" : period == TimeSpan.FromHours(1) ? "hour" : $"{period.TotalSeconds:0.###} s";
}
