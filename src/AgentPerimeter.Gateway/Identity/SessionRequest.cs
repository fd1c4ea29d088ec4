using AgentPerimeter.Protocol.Refusals;
using System.Collections.Concurrent;
using System.Security.Claims;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>A request for a session token, as the admin API and <c>perimeter token</c> send it.</summary>
public sealed record SessionRequest(string? Agent, string? WorkType, int? TtlSeconds, string? SessionId = null);
