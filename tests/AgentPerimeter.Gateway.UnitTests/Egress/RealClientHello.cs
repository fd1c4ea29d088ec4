using System.Net.Security;
using System.Security.Authentication;

namespace AgentPerimeter.Gateway.UnitTests.Egress;

/// <summary>The first bytes <see cref="SslStream"/> sends as a client: a ClientHello as the platform's TLS stack writes it.</summary>
internal static class RealClientHello
{
    public static async Task<byte[]> CaptureAsync(string targetHost, SslProtocols protocols = SslProtocols.None, params string[] alpn)
    {
        var transport = new CapturingStream();
        using var tls = new SslStream(transport);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            EnabledSslProtocols = protocols,
            ApplicationProtocols = alpn.Length == 0 ? null : alpn.Select(p => new SslApplicationProtocol(p)).ToList(),
            RemoteCertificateValidationCallback = static (_, _, _, _) => false,
        };
        // The transport hangs up after the hello, so the handshake must fail; what matters is what was sent.
        await Assert.ThrowsAnyAsync<Exception>(() => tls.AuthenticateAsClientAsync(options));
        var hello = transport.Written;
        Assert.True(hello.Length > 5 && hello[0] == 22, "SslStream sent no TLS handshake record");
        return hello;
    }
}
