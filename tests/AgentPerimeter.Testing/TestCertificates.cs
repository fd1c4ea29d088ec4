using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentPerimeter.Testing;

/// <summary>Certificates made by the test itself: CAs, a server certificate, client certificates (good, foreign, expired).</summary>
public static class TestCertificates
{
    public static X509Certificate2 CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(365));
    }

    public static (X509Certificate2 Certificate, ECDsa Key) Issue(X509Certificate2 authority, string subject, bool server,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, params string[] dnsNames)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (dnsNames.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in dnsNames)
                san.AddDnsName(name);
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        using var signed = request.Create(authority, notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30), serial);
        return (signed.CopyWithPrivateKey(key), key);
    }

    /// <summary>Writes a certificate (and its key) as PEM files; returns their paths.</summary>
    public static (string Certificate, string? Key) WritePem(string dir, string name, X509Certificate2 certificate, ECDsa? key = null)
    {
        var certPath = Path.Combine(dir, name + ".crt.pem");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        string? keyPath = null;
        if (key is not null)
        {
            keyPath = Path.Combine(dir, name + ".key.pem");
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        }
        return (certPath, keyPath);
    }
}
