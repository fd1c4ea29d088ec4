using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// The trust bundle for a sandbox whose gateway terminates TLS for some hosts: the system's bundle (so
/// hosts the gateway tunnels untouched still verify) followed by the gateway's inspection CA. Only the
/// certificates of the CA file are copied — a private key that came in the same PEM stays out of the sandbox.
/// </summary>
internal static class CaBundle
{
    /// <summary>Where distributions keep the system bundle: Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE, and the OpenSSL default.</summary>
    private static readonly string[] SystemBundles =
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ];

    /// <summary>The CA file's certificates as PEM; throws <see cref="ArgsException"/> when it holds none.</summary>
    public static string ReadAuthority(string caFile)
    {
        string text;
        try
        {
            text = File.ReadAllText(caFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ArgsException($"cannot read the CA file '{caFile}': {ex.Message}");
        }
        var pem = new StringBuilder();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (rest[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                try
                {
                    using var certificate = X509Certificate2.CreateFromPem(rest[fields.Location]);
                    pem.AppendLine(certificate.ExportCertificatePem());
                }
                catch (CryptographicException ex)
                {
                    throw new ArgsException($"the CA file '{caFile}' holds a certificate that cannot be read: {ex.Message}");
                }
            }
            rest = rest[fields.Location.End..];
        }
        if (pem.Length == 0)
            throw new ArgsException($"the CA file '{caFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
        return pem.ToString();
    }

    /// <summary>Writes the system bundle (when there is one) and then the authority to <paramref name="path"/>.</summary>
    public static void Write(string path, string authorityPem)
    {
        var system = SystemBundles.FirstOrDefault(File.Exists);
        var bundle = new StringBuilder();
        if (system is not null)
        {
            bundle.Append(File.ReadAllText(system));
            if (bundle.Length > 0 && bundle[^1] != '\n')
                bundle.Append('\n');
        }
        bundle.Append(authorityPem);
        File.WriteAllText(path, bundle.ToString());
    }
}
