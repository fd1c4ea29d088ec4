using System.Net;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Metrics;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>Binds one of the gateway's listeners: its address, the connection feature naming it, and TLS (mutual TLS on the inbound listener).</summary>
internal static class PerimeterListenerSetup
{
    public static KestrelListenOptions Listen(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, GatewayOptions options, string url, ListenerKind kind)
    {
        var uri = new Uri(url);
        var address = uri.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" or "0.0.0.0" => IPAddress.Any,
            _ => IPAddress.Parse(uri.Host.Trim('[', ']')),
        };
        KestrelListenOptions? captured = null;
        var feature = new ListenerFeature(kind);
        kestrel.Listen(address, uri.Port, listen =>
        {
            captured = listen;
            listen.Use(next => connection =>
            {
                connection.Features.Set(feature);
                return next(connection);
            });
            if (uri.Scheme == Uri.UriSchemeHttps)
            {
                var https = new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions
                {
                    ServerCertificate = ListenerCertificates.LoadServerCertificate(options),
                    // The rest of the PEM file (intermediates) is sent with the leaf.
                    ServerCertificateChain = ListenerCertificates.LoadServerCertificateChain(options),
                    SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
                };
                if (kind == ListenerKind.Inbound)
                {
                    var services = kestrel.ApplicationServices;
                    var clients = new Tunnels.InboundClientCertificates(options.ResolveConfigPath(options.Inbound.ClientCertificateAuthority!),
                        services.GetRequiredService<PerimeterMetrics>(), services.GetRequiredService<TimeProvider>(),
                        services.GetRequiredService<ILoggerFactory>().CreateLogger("AgentPerimeter.Gateway.Tunnels.Inbound"));
                    https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                    https.CheckCertificateRevocation = false; // no online lookups during a handshake; the CA is pinned instead
                    https.ClientCertificateValidation = clients.Validate;
                }
                listen.UseHttps(https);
                kestrel.ApplicationServices.GetRequiredService<PerimeterListeners>().TlsListeners.Add(listen);
            }
        });
        return captured!;
    }
}
