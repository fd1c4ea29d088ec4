using Microsoft.AspNetCore.Connections;
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
            if (kind == ListenerKind.Egress)
            {
                // A forward proxy speaks HTTP/1.1 with CONNECT: it takes the raw connection, not the HTTP pipeline.
                listen.UseConnectionHandler<Egress.EgressConnectionHandler>();
                return;
            }
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
            // Governed listeners: each request's body framing is checked on the bytes Kestrel parses
            // (after TLS), for what Kestrel accepts but a proxy must not forward (CL with TE, "+2").
            if (kind is ListenerKind.Agent or ListenerKind.Inbound)
                listen.Use(Policy.RequestFramingFeature.Observe);
        });
        return captured!;
    }

    /// <summary>
    /// The egress proxy on a Unix domain socket (mode 0660 would let a group in; 0600 keeps it to the
    /// gateway's user and root): a sandbox in its own network namespace reaches the gateway only through it.
    /// </summary>
    public static string ListenEgressSocket(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
            File.Delete(path); // a socket file left by a previous run
        var feature = new ListenerFeature(ListenerKind.Egress);
        kestrel.ListenUnixSocket(path, listen =>
        {
            listen.Use(next => connection =>
            {
                connection.Features.Set(feature);
                return next(connection);
            });
            listen.UseConnectionHandler<Egress.EgressConnectionHandler>();
        });
        return path;
    }
}
