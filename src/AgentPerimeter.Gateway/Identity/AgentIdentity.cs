using AgentPerimeter.Protocol.Refusals;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>Who an action is for, taken from a validated token.</summary>
public sealed record AgentIdentity(string AgentId, string SessionId, string WorkType, string Issuer, DateTimeOffset ExpiresAt);
