using System.Net;
using AgentPerimeter.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace AgentPerimeter.Gateway.FunctionalTests.Identity;

public class TokenValidationTests
{
    public static TheoryData<string, string, string> BadTokens => new()
    {
        // case name, Authorization header value ("{gw}" tokens are built per gateway below), expected error code
        { "none", "", "missing_token" },
        { "basic scheme", "Basic Y2k6Ym90", "invalid_token" },
        { "malformed", "Bearer not-a-jwt", "invalid_token" },
        { "bad signature", "Bearer {other-key}", "invalid_signature" },
        { "alg none", "Bearer {alg-none}", "invalid_signature" },
        { "HS256 with RSA public key", "Bearer {hs256}", "invalid_signature" },
        { "expired beyond skew", "Bearer {expired}", "token_expired" },
        { "not yet valid", "Bearer {future}", "token_not_yet_valid" },
        { "wrong audience", "Bearer {wrong-aud}", "invalid_audience" },
        { "wrong issuer", "Bearer {wrong-iss}", "invalid_issuer" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadToken_Is401_Audited_AndNeverReachesUpstream(string name, string header, string expectedError)
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var key = Tokens.GatewayKey(gw);
        key.KeyId = null;
        var value = header
            .Replace("{other-key}", Tokens.Create(Tokens.NewRsaKey("other"), SecurityAlgorithms.RsaSha256))
            .Replace("{alg-none}", Tokens.AlgNone())
            .Replace("{hs256}", Tokens.Hs256WithPublicKey(key))
            .Replace("{expired}", Tokens.Create(key, SecurityAlgorithms.RsaSha256, notBefore: DateTime.UtcNow.AddHours(-2), expires: DateTime.UtcNow.AddMinutes(-5)))
            .Replace("{future}", Tokens.Create(key, SecurityAlgorithms.RsaSha256, notBefore: DateTime.UtcNow.AddMinutes(5), expires: DateTime.UtcNow.AddMinutes(20)))
            .Replace("{wrong-aud}", Tokens.Create(key, SecurityAlgorithms.RsaSha256, audience: "someone-else"))
            .Replace("{wrong-iss}", Tokens.Create(key, SecurityAlgorithms.RsaSha256, issuer: "evil-issuer"));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/repos");
        if (value.Length > 0)
            request.Headers.TryAddWithoutValidation("Authorization", value);
        var response = await gw.Agent.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name}: {response.StatusCode}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains($"\"error\":\"{expectedError}\"", body);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Empty(upstream.Received);
        var record = gw.AuditFor(response);
        Assert.Equal("unauthenticated", record.GetProperty("decision").GetString());
        Assert.Equal(expectedError, record.GetProperty("code").GetString());
        // The token itself is never written anywhere.
        if (value.Length > 20)
        {
            var raw = value["Bearer ".Length..];
            Assert.DoesNotContain(raw, File.ReadAllText(gw.AuditPath));
            Assert.DoesNotContain(raw, gw.LogText());
        }
    }

    [Fact]
    public async Task WorkTypeClaim_GivenAsAList_IsRefused401_NotReadAsItsFirstValue()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var key = Tokens.GatewayKey(gw);
        var handler = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        var now = DateTime.UtcNow;
        var token = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "agentperimeter", Audience = "agentperimeter", NotBefore = now.AddMinutes(-1), IssuedAt = now.AddMinutes(-1), Expires = now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
            Subject = new System.Security.Claims.ClaimsIdentity([
                new System.Security.Claims.Claim("sub", "ci-bot"), new System.Security.Claims.Claim("sid", "ses_list"),
                new System.Security.Claims.Claim("work_type", "production"), new System.Security.Claims.Claim("work_type", "exploration")]),
        });
        Assert.Contains("\"work_type\":[", System.Text.Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(token.Split('.')[1])));

        using var response = await gw.GetAsync("/api/repos", token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_token", gw.AuditFor(response).GetProperty("code").GetString());
        Assert.Empty(gw.Upstream.Received);
    }

    [Fact]
    public async Task ValidSignature_UnknownWorkType_Is403_AndAudited()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var key = Tokens.GatewayKey(gw);

        var response = await gw.GetAsync("/api/repos", Tokens.Create(key, SecurityAlgorithms.RsaSha256, workType: "root"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("unknown_work_type", await response.Content.ReadAsStringAsync());
        Assert.Equal("root", gw.AuditFor(response).GetProperty("work_type").GetString());
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task AgentToken_IsNotForwardedUpstream()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();
        var upstream = gw.Upstream;
        var token = await gw.TokenAsync("ci-bot", "build");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/echo/x");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic c2VjcmV0");
        var response = await gw.Agent.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(upstream.Received);
        Assert.False(received.Headers.ContainsKey("Authorization"));
        Assert.False(received.Headers.ContainsKey("Proxy-Authorization"));
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task CachedToken_StillExpires_OnTheGatewayClock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gw = await TestGateway.StartWithUpstreamAsync(configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var upstream = gw.Upstream;
        var key = Tokens.GatewayKey(gw);
        var token = Tokens.Create(key, SecurityAlgorithms.RsaSha256, expires: DateTime.UtcNow.AddMinutes(2));

        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/repos", token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.GetAsync("/api/repos", token)).StatusCode); // served from the cache

        clock.Advance(TimeSpan.FromMinutes(3)); // past exp + 30 s skew
        var expired = await gw.GetAsync("/api/repos", token);

        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("token_expired", await expired.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Received.Count);
    }

    [Fact]
    public async Task SessionEndpoint_ChecksTheAgentMayUseTheWorkType()
    {
        await using var gw = await TestGateway.StartWithUpstreamAsync();

        var refused = await gw.Admin.PostAsync("admin/sessions", Json("""{"agent":"intern","workType":"sensitive-data"}"""));
        var unknown = await gw.Admin.PostAsync("admin/sessions", Json("""{"agent":"data-bot","workType":"root"}"""));
        var tooLong = await gw.Admin.PostAsync("admin/sessions", Json("""{"agent":"data-bot","workType":"build","ttlSeconds":999999}"""));
        var allowed = await gw.Admin.PostAsync("admin/sessions", Json("""{"agent":"data-bot","workType":"sensitive-data"}"""));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("work_type_not_permitted", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("unknown_work_type", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        var sessions = await gw.Admin.GetStringAsync("admin/sessions");
        Assert.Contains("\"agent\":\"data-bot\"", sessions);
        Assert.DoesNotContain("token", sessions);
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
