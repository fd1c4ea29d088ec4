using System.Net;
using System.Text.Json;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Identity;

/// <summary>
/// Replicas share the signing key; a key is rotated by publishing the new one on every replica before
/// any signs with it, and keeping the old one until its tokens expire. A replica that does not know a
/// token's key says so, naming the setting to fix.
/// </summary>
public sealed class SigningKeyRotationTests
{
    [Fact]
    public async Task AKeyListedForVerification_IsAcceptedAndPublished_AndAnUnknownKeySaysWhatToShare()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var a = await TestGateway.StartAsync(upstream.Url);
        var keyOfA = Path.Combine(a.DataDir, "signing-key.pem");
        var tokenFromA = await a.TokenAsync("ci-bot", "build");

        // B signs with its own key but accepts (and publishes) A's, as during a rotation.
        await using var b = await TestGateway.StartAsync(upstream.Url, extraArgs: [$"--Gateway:Identity:VerificationKeyPaths:0={keyOfA}"]);
        // C knows only its own key: a replica that was not given the shared one.
        await using var c = await TestGateway.StartAsync(upstream.Url);

        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/repos", tokenFromA)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/repos", await b.TokenAsync("ci-bot", "build"))).StatusCode);
        using var jwks = JsonDocument.Parse(await b.Admin.GetStringAsync(".well-known/jwks.json"));
        Assert.Equal(2, jwks.RootElement.GetProperty("keys").GetArrayLength());

        using var refused = await c.GetAsync("/api/repos", tokenFromA);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("Gateway:Identity:SigningKeyPath", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReplicasGivenTheSameKeyFile_AcceptEachOthersTokens()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var a = await TestGateway.StartAsync(upstream.Url);
        var shared = Path.Combine(a.DataDir, "signing-key.pem");
        await using var b = await TestGateway.StartAsync(upstream.Url, extraArgs: [$"--Gateway:Identity:SigningKeyPath={shared}"]);

        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/repos", await a.TokenAsync("ci-bot", "build"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("/api/repos", await b.TokenAsync("ci-bot", "build"))).StatusCode);
    }
}
