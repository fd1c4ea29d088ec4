using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The gateway's own CA for hosts marked <c>Inspect</c>: created on first use under the data directory
/// (like the signing key; the key file 0600), exported with <c>perimeter ca export</c> so a sandbox can
/// trust it, and issuing short-lived leaf certificates per host name (cached).
/// </summary>
internal sealed class EgressCertificateAuthority(string certificatePath, string keyPath, TimeProvider time)
{
    private readonly Lazy<X509Certificate2> _authority = new(() => LoadOrCreate(certificatePath, keyPath, time));
    private readonly ConcurrentDictionary<string, X509Certificate2> _leaves = new(StringComparer.Ordinal);

    /// <summary>The CA certificate as PEM (never the key).</summary>
    public string ExportPem() => _authority.Value.ExportCertificatePem();

    public X509Certificate2 LeafFor(string host)
    {
        var now = time.GetUtcNow();
        if (_leaves.TryGetValue(host, out var cached) && cached.NotAfter.ToUniversalTime() > now.UtcDateTime.AddHours(1))
            return cached;
        var authority = _authority.Value;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(host);
        request.CertificateExtensions.Add(san.Build());
        using var signed = request.Create(authority, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(12));
        // Through PKCS#12 so the private key is usable by SslStream on every platform.
        var leaf = X509CertificateLoader.LoadPkcs12(signed.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
        _leaves[host] = leaf;
        return leaf;
    }

    private static X509Certificate2 LoadOrCreate(string certificatePath, string keyPath, TimeProvider time)
    {
        if (File.Exists(certificatePath) && File.Exists(keyPath))
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        Directory.CreateDirectory(Path.GetDirectoryName(certificatePath)!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=AgentPerimeter egress inspection CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = time.GetUtcNow();
        using var ca = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        var keyOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            keyOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var keyFile = new StreamWriter(new FileStream(keyPath, keyOptions)))
            keyFile.Write(key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificatePath, ca.ExportCertificatePem());
        return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
    }
}
