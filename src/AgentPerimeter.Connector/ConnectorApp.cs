using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace AgentPerimeter.Connector;

/// <summary>
/// The connector host: Kestrel on the tunnel transport (connections dialed out to the gateway) in
/// front of YARP's forwarder to the one private server it serves. It makes no decisions: the gateway
/// has already identified, checked, limited and recorded every request that comes through.
/// </summary>
public static class ConnectorApp
{
    public const int ExitInvalidArguments = 2;
    public const int ExitRefused = 3;

    public static WebApplication Build(ConnectorOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        var state = new ConnectorState();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton<IConnectionListenerFactory, TunnelTransportFactory>();
        builder.Services.AddHttpForwarder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The gateway enforces body limits and timeouts; the connector passes everything it is given.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            // Idle tunnel connections stay open until the gateway or the network closes them (no
            // synchronized expiry of every idle connection at once).
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromDays(1);
            kestrel.Listen(new TunnelEndPoint(options));
        });
        configure?.Invoke(builder);

        var app = builder.Build();
        state.Stop = () => app.Lifetime.StopApplication();
        app.MapForwarder("/{**path}", options.TargetPrefix.ToString(),
            new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromMinutes(10) },
            new TargetTransformer(), new HttpMessageInvoker(CreateTargetHandler(options)));
        return app;
    }

    /// <summary>Runs until stopped. Exit codes: 0 stopped, 2 invalid arguments, 3 refused by the gateway.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var config = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await Console.Out.WriteLineAsync(ConnectorOptions.Usage);
            return 0;
        }
        var (options, errors) = ConnectorOptions.Read(config);
        if (options is null)
        {
            foreach (var error in errors)
                await Console.Error.WriteLineAsync("error: " + error);
            await Console.Error.WriteLineAsync(ConnectorOptions.Usage);
            return ExitInvalidArguments;
        }
        var app = Build(options);
        var state = app.Services.GetRequiredService<ConnectorState>();
        await app.RunAsync();
        if (state.Refusal is { } refusal)
        {
            await Console.Error.WriteLineAsync($"error: {refusal.Message} The connector credential is wrong, or belongs to another tunnel than '{options.Tunnel}', or the gateway does not declare that tunnel.");
            return ExitRefused;
        }
        return 0;
    }

    private static SocketsHttpHandler CreateTargetHandler(ConnectorOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
            ConnectTimeout = TimeSpan.FromSeconds(15),
        };
        if (options.TargetSocket is { } path)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        return handler;
    }

    /// <summary>
    /// Passes the gateway's request on as it is (including the X-Forwarded-* headers the gateway set),
    /// except the Host header: the tunnel's internal name means nothing to the private server, which
    /// gets its own address instead (MCP servers that guard against DNS rebinding check it).
    /// </summary>
    private sealed class TargetTransformer : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.Headers.Host = null;
        }
    }
}
