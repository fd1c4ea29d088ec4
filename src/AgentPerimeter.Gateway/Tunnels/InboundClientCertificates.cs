using AgentPerimeter.Protocol.Refusals;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;

namespace AgentPerimeter.Gateway.Tunnels;

/// <summary>
/// Inbound tunnel termination: traffic from an external tunnel (Cloudflare Tunnel with authenticated
/// origin pulls, a Claude MCP tunnel) arrives over mutual TLS. Only client certificates that chain to
/// the one configured CA, are within their validity period and allow client authentication pass the
/// handshake; nothing else gets as far as HTTP.
/// </summary>
internal sealed partial class InboundClientCertificates
{
    private readonly X509Certificate2Collection _authority;
    private readonly PerimeterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public InboundClientCertificates(string caPath, PerimeterMetrics metrics, TimeProvider time, ILogger logger)
    {
        _authority = new X509Certificate2Collection();
        _authority.ImportFromPemFile(caPath);
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>Kestrel's client certificate callback: true only for a certificate issued under the configured CA.</summary>
    public bool Validate(X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Never fetch what a client's certificate points at (AIA/CRL URLs): a handshake must not make
        // the gateway send requests of the client's choosing. Intermediates come from the client.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.Equals(certificate))
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")); // client authentication
        bool valid = chain.Build(certificate);
        if (valid)
            return true;
        var reason = chain.ChainStatus.Any(s => s.Status.HasFlag(X509ChainStatusFlags.NotTimeValid)) ? "expired_or_not_yet_valid"
            : chain.ChainStatus.Any(s => s.Status.HasFlag(X509ChainStatusFlags.UntrustedRoot) || s.Status.HasFlag(X509ChainStatusFlags.PartialChain)) ? "untrusted_issuer"
            : chain.ChainStatus.Any(s => s.Status.HasFlag(X509ChainStatusFlags.NotValidForUsage)) ? "not_for_client_auth"
            : "invalid";
        _metrics.InboundRefused(reason);
        Log.Refused(_logger, certificate.Subject, certificate.Thumbprint, reason);
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 70, Level = LogLevel.Warning, Message = "Inbound listener refused client certificate {Subject} ({Thumbprint}): {Reason}")]
        public static partial void Refused(ILogger logger, string subject, string thumbprint, string reason);
    }
}
