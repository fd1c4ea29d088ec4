using AgentPerimeter.Protocol.Refusals;
using System.Collections.Concurrent;
using System.Security.Claims;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>A session the gateway issued a token for (never the token itself).</summary>
public sealed record SessionInfo(string SessionId, string AgentId, string WorkType, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt);
