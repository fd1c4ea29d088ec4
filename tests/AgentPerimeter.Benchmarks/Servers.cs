using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;

namespace AgentPerimeter.Benchmarks;

/// <summary>The upstream and the bare YARP proxy the gateway is compared with. Both bind 127.0.0.1 on a free port.</summary>
internal static class Servers
{
    public const string ServeYarpCommand = "serve-yarp";
    public const string ListeningPrefix = "LISTENING ";

    /// <summary>The route of the HTTP targets' <c>GET /api/repos</c>, in bare YARP and in the gateway's shipped config.</summary>
    public const string HttpRoute = "demo-api";

    private static readonly byte[] Body =
        """{"repos":[{"name":"agentperimeter","default_branch":"main","private":false},{"name":"demo","default_branch":"main","private":true}]}"""u8.ToArray();

    public static int BodyLength => Body.Length;

    /// <summary>200 with a small JSON body for any GET under /api/, 404 for anything else.</summary>
    public static async Task<WebApplication> StartUpstreamAsync(CancellationToken ct)
    {
        var app = NewBuilder().Build();
        app.Run(static context =>
        {
            if (!HttpMethods.IsGet(context.Request.Method) || !context.Request.Path.StartsWithSegments("/api"))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = Body.Length;
            return context.Response.Body.WriteAsync(Body, context.RequestAborted).AsTask();
        });
        await app.StartAsync(ct).ConfigureAwait(false);
        return app;
    }

    /// <summary>
    /// YARP with the gateway's routes (demo-api <c>/api/{**rest}</c>, demo-mcp <c>/mcp</c>) and its default
    /// proxy pipeline, and nothing else: no identity, policy, audit or metrics.
    /// </summary>
    public static async Task<WebApplication> StartYarpAsync(Uri upstream, CancellationToken ct)
    {
        var builder = NewBuilder();
        builder.Services.AddReverseProxy().LoadFromMemory(
            [
                new RouteConfig { RouteId = HttpRoute, ClusterId = "demo", Match = new RouteMatch { Path = "/api/{**rest}" } },
                new RouteConfig { RouteId = "demo-mcp", ClusterId = "demo", Match = new RouteMatch { Path = "/mcp" } },
            ],
            [
                new ClusterConfig
                {
                    ClusterId = "demo",
                    Destinations = new Dictionary<string, DestinationConfig> { ["demo-1"] = new() { Address = upstream.ToString() } },
                },
            ]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync(ct).ConfigureAwait(false);
        return app;
    }

    /// <summary>The bare-YARP child (<c>serve-yarp UPSTREAM_URL</c>).</summary>
    public static async Task<int> ServeYarpChildAsync(string[] args)
    {
        if (args.Length != 2 || !Uri.TryCreate(args[1], UriKind.Absolute, out var upstream))
        {
            await Console.Error.WriteLineAsync($"usage: AgentPerimeter.Benchmarks {ServeYarpCommand} UPSTREAM_URL").ConfigureAwait(false);
            return 2;
        }
        return await ServeChildAsync(await StartYarpAsync(upstream, CancellationToken.None).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a started app as a child process: prints <c>LISTENING url</c>, then serves until its parent
    /// closes standard input (the parent ended, however it ended) or it receives SIGTERM/SIGINT.
    /// </summary>
    public static async Task<int> ServeChildAsync(WebApplication app)
    {
        await using (app.ConfigureAwait(false))
        {
            Console.Out.WriteLine(ListeningPrefix + BoundUri(app));
            Console.Out.Flush();

            var stdinClosed = Task.Run(() => Console.OpenStandardInput().CopyTo(Stream.Null));
            var stopping = Task.Delay(Timeout.Infinite, app.Lifetime.ApplicationStopping);
            await Task.WhenAny(stdinClosed, stopping).ConfigureAwait(false);
            await app.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        return 0;
    }

    public static Uri BoundUri(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.EndsWith('/') ? address : address + "/");
    }

    /// <summary>A Kestrel app on 127.0.0.1, a free port, warnings only; <paramref name="listen"/> configures the listener (HTTPS).</summary>
    public static WebApplicationBuilder NewBuilder(Action<ListenOptions>? listen = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // Per-request Information logs would dominate a proxy benchmark: warnings and errors only.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false; // as the gateway
            kestrel.Listen(IPAddress.Loopback, 0, listen ?? (static _ => { }));
        });
        return builder;
    }
}
