using System.Text.Json;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
using Microsoft.AspNetCore.Http;
using Xunit;

namespace AgentPerimeter.Gateway.UnitTests.Actions;

/// <summary>Stage-level tests of the action core on a <see cref="DefaultHttpContext"/>: decide once, outcome apart.</summary>
public sealed class ActionCoreTests
{
    private static (DefaultHttpContext Http, ActionContext Action) NewAction()
    {
        var http = new DefaultHttpContext();
        http.Response.Body = new MemoryStream();
        var action = new ActionContext(ActionContext.NewId(), DateTimeOffset.UnixEpoch) { WorkType = "build", RouteId = "api" };
        http.Features.Set<IActionFeature>(new TestActionFeature(action));
        return (http, action);
    }

    private sealed class TestActionFeature(ActionContext action) : IActionFeature
    {
        public ActionContext Action { get; } = action;
    }

    private static JsonElement Body(DefaultHttpContext http)
    {
        http.Response.Body.Position = 0;
        return JsonDocument.Parse(http.Response.Body).RootElement.Clone();
    }

    [Fact]
    public void Decide_Twice_Throws_TheFirstDecisionStands()
    {
        var (_, action) = NewAction();
        action.Decide(new PolicyDecision(DecisionOutcome.Allow, "allowed", "r1", null));
        var ex = Assert.Throws<InvalidOperationException>(() => action.Decide(new PolicyDecision(DecisionOutcome.Deny, "policy_denied", null, "no")));
        Assert.Contains("already decided", ex.Message);
        Assert.Equal("allow", action.Decision.Label);
        Assert.Equal("r1", action.Decision.RuleId);
    }

    [Fact]
    public void Decide_Pending_IsRejected()
    {
        var (_, action) = NewAction();
        Assert.Throws<ArgumentException>(() => action.Decide(PolicyDecision.Pending));
        Assert.False(action.IsDecided);
    }

    [Fact]
    public async Task RateLimitedAfterAllow_KeepsTheDecision_ReportsTheOutcome()
    {
        var (http, action) = NewAction();
        action.Decide(new PolicyDecision(DecisionOutcome.Allow, "allowed", "build-read", null));
        await ActionResponses.FailAsync(http, StatusCodes.Status429TooManyRequests,
            new ActionOutcome(OutcomeClass.Limited, "rate_limited", "build-rate", "slow down", TimeSpan.FromSeconds(2)));

        Assert.Equal(DecisionOutcome.Allow, action.Decision.Outcome);
        Assert.Equal("build-read", action.Decision.RuleId);
        Assert.Equal("rate_limited", action.DecisionLabel);
        Assert.Equal("rate_limited", action.Code);
        Assert.Equal("build-rate", action.RuleId);
        Assert.Equal("limited", action.OutcomeLabel);
        Assert.True(action.Refused);
        Assert.True(action.Governed(audited: true).Policy); // a limit of the work type decided: governed

        Assert.Equal(429, http.Response.StatusCode);
        var body = Body(http);
        Assert.Equal("rate_limited", body.GetProperty("error").GetString());
        Assert.Equal("build-rate", body.GetProperty("rule").GetString());
        Assert.Equal(2000, body.GetProperty("retry_after_ms").GetInt64());
        Assert.Equal(action.ActionId, http.Response.Headers[ActionResponses.ActionIdHeader].ToString());
    }

    [Fact]
    public async Task FailAsync_BeforeTheSeal_DecidesByTheProposal()
    {
        var (http, action) = NewAction();
        action.Proposal = new PolicyDecision(DecisionOutcome.Allow, "allowed", "r", null);
        await ActionResponses.FailAsync(http, StatusCodes.Status503ServiceUnavailable, new ActionOutcome(OutcomeClass.Unavailable, "approval_unavailable"));
        Assert.Equal(DecisionOutcome.Allow, action.Decision.Outcome);
        Assert.Equal("unavailable", action.DecisionLabel);
        Assert.False(action.Governed(audited: true).Policy); // the check could not be made: not governed
    }

    [Fact]
    public void Outcome_FirstOneWins()
    {
        var (_, action) = NewAction();
        Assert.True(action.SetOutcome(new ActionOutcome(OutcomeClass.Degraded, "ratelimit_degraded")));
        Assert.False(action.SetOutcome(new ActionOutcome(OutcomeClass.UpstreamFailed, "upstream_unavailable")));
        Assert.Equal("ratelimit_degraded", action.Outcome!.Code);
    }

    [Fact]
    public void ReachedUpstream_IsOneFact_UndoneOnlyByAnUnsentFailure()
    {
        var (_, action) = NewAction();
        Assert.False(action.ReachedUpstream);
        action.MarkForwarding();
        Assert.True(action.ReachedUpstream);
        action.SetOutcome(new ActionOutcome(OutcomeClass.UpstreamFailed, "tunnel_unavailable") { NothingSent = true });
        Assert.False(action.ReachedUpstream);
    }

    [Fact]
    public async Task RefusalWriter_ProvidedByAStage_WritesEveryLaterRefusal()
    {
        var (http, action) = NewAction();
        var writer = new RecordingWriter();
        action.RefusalWriter = writer;
        await ActionResponses.RefuseAsync(http, StatusCodes.Status403Forbidden, new PolicyDecision(DecisionOutcome.Deny, "policy_denied", null, "not allowed"));
        var refusal = Assert.Single(writer.Written);
        Assert.Equal(new Refusal(403, "policy_denied", "not allowed"), refusal);
        Assert.Equal(0, http.Response.Body.Length); // the default JSON writer did not run
    }

    private sealed class RecordingWriter : IRefusalWriter
    {
        public List<Refusal> Written { get; } = [];

        public Task WriteAsync(HttpContext context, ActionContext action, Refusal refusal)
        {
            Written.Add(refusal);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task PolicySnapshot_IsReadOnce_PerAction()
    {
        var http = new DefaultHttpContext();
        var action = new ActionContext(ActionContext.NewId(), DateTimeOffset.UnixEpoch);
        http.Features.Set<IActionFeature>(new TestActionFeature(action));
        var first = new PerimeterPolicy { WorkTypes = System.Collections.Frozen.FrozenDictionary<string, WorkTypePolicy>.Empty, Version = "v1" };
        http.Features.Set(new PolicySnapshot(first));
        action.PolicyVersion = first.Version;
        // A reload swapping the store's policy does not change what this request decides on.
        await Task.Yield();
        Assert.Same(first, http.GetPolicy());
        Assert.Equal("v1", action.PolicyVersion);
    }
}
