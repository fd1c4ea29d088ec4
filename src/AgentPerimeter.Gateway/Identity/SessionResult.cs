using AgentPerimeter.Protocol.Refusals;
using System.Collections.Concurrent;
using System.Security.Claims;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>The outcome of a session request: a token, or why not (as a value).</summary>
public sealed record SessionResult(SessionInfo? Session, string? Token, int Status, string? Error, string? Message);
