using System.Collections.Frozen;
using System.Text.Json;
using StackExchange.Redis;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>
/// The kill switch: revoked sessions and agents. <see cref="IsRevoked"/> is a local lookup on every
/// action; how revocations reach the local set differs by store.
/// </summary>
public interface IRevocationStore
{
    bool IsRevoked(string sessionId, string agentId);
    Task RevokeAsync(string kind, string id);
    IReadOnlyCollection<string> All { get; }

    /// <summary>Null once the store has the revocations, else why not (for readiness).</summary>
    string? Problem { get; }
}
