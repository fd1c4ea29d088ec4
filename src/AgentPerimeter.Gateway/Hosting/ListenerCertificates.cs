using System.Security.Cryptography.X509Certificates;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>The https listeners' server certificate (<c>Gateway:Tls</c>).</summary>
internal static class ListenerCertificates
{
    /// <summary>The server certificate of every https listener, from <c>Gateway:Tls</c>.</summary>
    public static X509Certificate2 LoadServerCertificate(GatewayOptions options) =>
        X509Certificate2.CreateFromPemFile(options.ResolveConfigPath(options.Tls.Certificate!), options.ResolveConfigPath(options.Tls.Key!));

    /// <summary>The intermediates after the leaf in <c>Gateway:Tls:Certificate</c> (empty when the file holds the leaf only).</summary>
    public static X509Certificate2Collection LoadServerCertificateChain(GatewayOptions options)
    {
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(options.ResolveConfigPath(options.Tls.Certificate!));
        var chain = new X509Certificate2Collection();
        for (int i = 1; i < all.Count; i++)
            chain.Add(all[i]);
        return chain;
    }
}
