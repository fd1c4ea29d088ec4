using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Approvals;

/// <summary>A held action waiting for (or decided by) a human: bound to one agent, work type, session, route, target and argument set.</summary>
public sealed record Approval
{
    public required string Id { get; init; }
    public required string AgentId { get; init; }
    public required string SessionId { get; init; }
    public required string WorkType { get; init; }
    public required string Route { get; init; }
    public required string RuleId { get; init; }
    /// <summary>"tools/call deploy" or "POST /api/deployments?x=1".</summary>
    public required string What { get; init; }
    /// <summary>The arguments (or body) as sent, for the human deciding.</summary>
    public string? Arguments { get; init; }
    public required string Fingerprint { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public ApprovalStatus Status { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public string? DecidedBy { get; init; }
    public string? UsedByAction { get; init; }

    /// <summary>Pending or approved past its expiry reads as expired.</summary>
    public Approval AsOf(DateTimeOffset now) =>
        Status is ApprovalStatus.Pending or ApprovalStatus.Approved && ExpiresAt <= now ? this with { Status = ApprovalStatus.Expired } : this;
}
