using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Approvals;
using AgentPerimeter.Gateway.Idempotency;
using AgentPerimeter.Gateway.Admin;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Egress;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Mcp;
using AgentPerimeter.Gateway.RateLimiting;
using AgentPerimeter.Gateway.Secrets;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Proxy;
using AgentPerimeter.Gateway.Tunnels;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog;

namespace AgentPerimeter.Gateway.Hosting;

public static class PerimeterHostingExtensions
{
    /// <summary>
    /// Loads <c>gateway.json</c>, <c>routes.json</c> and <c>perimeter.json</c> from the config directory
    /// (<c>--config-dir</c>, <c>PERIMETER_CONFIG_DIR</c>, <c>./config</c>, or the copy shipped beside the
    /// binary), validates all of it, and registers the perimeter's services. Throws
    /// <see cref="ConfigurationValidationException"/> listing every error when anything is invalid.
    /// </summary>
    public static WebApplicationBuilder AddPerimeter(this WebApplicationBuilder builder, string[] args)
    {
        var config = builder.Configuration;
        var configDir = ResolveConfigDirectory(config);
        config.AddJsonFile(Path.Combine(configDir, "gateway.json"), optional: true, reloadOnChange: false);
        var files = new ConfigFiles(configDir, Path.GetFullPath(config["routes"] ?? Path.Combine(configDir, "routes.json")),
            Path.GetFullPath(config["policy"] ?? Path.Combine(configDir, "perimeter.json")));
        AddWatchedJsonFile(config, files.Routes);
        AddWatchedJsonFile(config, files.Policy);
        // Environment and command line override the files (e.g. --Gateway:Listeners:Agent=http://127.0.0.1:0).
        config.AddEnvironmentVariables();
        config.AddCommandLine(args);

        var (options, errors) = ConfigurationValidator.Validate(config, configDir);
        if (errors.Count > 0)
            throw new ConfigurationValidationException(errors);
        options!.DataDirectory = Path.GetFullPath(options.DataDirectory);
        options.ConfigDirectory = configDir;

        var services = builder.Services;
        // Each gateway keeps its own logger (several run in one test process); the static Log.Logger is left alone.
        services.AddSerilog(PerimeterLogging.Configure(options), preserveStaticLogger: true);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(new GatewayLimits { MaxRequestBodyBytes = options.MaxRequestBodyBytes, MaxInspectedMessageBytes = options.MaxInspectedMessageBytes, UpstreamActivityTimeout = options.UpstreamActivityTimeout });
        services.AddSingleton(new ActionLogOptions { AccessLog = options.Logging.AccessLog });
        services.AddSingleton<PerimeterMetrics>();
        services.AddHostedService<KestrelRejectionCounter>(); // requests Kestrel refuses before the pipeline
        services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        services.AddSingleton(sp => new ShutdownDrain(options.ShutdownDrainDelay, sp.GetRequiredService<IHostApplicationLifetime>()));
        services.AddHostedService(sp => sp.GetRequiredService<ShutdownDrain>());
        services.AddSingleton<IShutdownSignal>(sp => sp.GetRequiredService<ShutdownDrain>());
        services.AddSingleton<PerimeterListeners>();
        services.AddSingleton<MatcherPolicy, ListenerMatcherPolicy>();
        services.AddHostedService<PerimeterStartup>();
        services.AddSingleton(new Proxy.OriginGuardOptions(options.AllowedHosts, options.AllowedOrigins));
        services.AddSingleton(options.OAuth);
        services.AddSingleton(options.OAuthClients);
        services.AddSingleton(new ProtectedResourceInfo(options.OAuth.PublicUrl));
        services.AddSingleton(sp => new ApprovalPageLinks(() => options.Approvals.PageUrl ?? sp.GetRequiredService<PerimeterListeners>().AdminUri.ToString()));
        services.AddSingleton<Admin.ApprovalPageEndpoints>();
        // With OTEL_EXPORTER_OTLP_ENDPOINT set, the perimeter's spans (one per MCP message, in the caller's
        // trace) and ASP.NET Core's request spans go to an OpenTelemetry collector over OTLP; the standard
        // OTEL_* variables configure the exporter. Flushed and disposed when the gateway stops.
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            services.AddSingleton(_ => OpenTelemetry.Sdk.CreateTracerProviderBuilder()
                .ConfigureResource(r => r.AddService("agentperimeter-gateway"))
                .AddSource(PerimeterTracing.SourceName, "Microsoft.AspNetCore")
                .AddOtlpExporter()
                .Build());
            services.AddHostedService<TracingLifetime>();
        }
        services.AddSingleton<Admin.OperatorRecords>();

        // Shared state (rate limits, revocations, MCP sessions, approvals, idempotency) lives in Redis when
        // configured, so replicas share it; each feature falls back to memory (or a file) otherwise.
        var redis = AddRedis(services, options.Redis);
        var redisTimeout = TimeSpan.FromMilliseconds(Math.Max(options.Redis.TimeoutMilliseconds, 1000));
        services.AddPerimeterAudit(new AuditOptions
        {
            Path = options.ResolveDataPath(options.Audit.Path), Durability = options.Audit.Durability, FlushInterval = options.Audit.FlushInterval,
            MaxFileBytes = options.Audit.MaxFileBytes, MaxFiles = options.Audit.MaxFiles, CheckpointEveryRecords = options.Audit.CheckpointEveryRecords,
            CheckpointInterval = options.Audit.CheckpointInterval, CheckpointPath = options.ResolveDataPath(options.Audit.CheckpointPath),
        }, redis);
        services.AddPerimeterPolicy();
        services.AddPerimeterSecrets(options.ConfigDirectory);
        options.Identity.VerificationKeyPaths = [.. options.Identity.VerificationKeyPaths.Select(options.ResolveDataPath)];
        services.AddSingleton(sp => new OAuth.AssertionReplay(redis is null ? null : sp.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>(),
            redis ?? "", redisTimeout, sp.GetRequiredService<TimeProvider>()));
        services.AddPerimeterIdentity(options.Identity, options.ResolveDataPath(options.Identity.SigningKeyPath), options.ResolveDataPath("revocations.json"), redis,
            OAuth.OAuthEndpointsMiddleware.OwnResource(options.OAuth.PublicUrl, options.AllowedHosts));
        services.AddPerimeterMcp(options.ResolveDataPath("tool-pins.json"), redis, redisTimeout);
        services.AddPerimeterIdempotency(redis, redisTimeout);
        services.AddPerimeterApprovals(redis, redisTimeout);
        services.AddPerimeterRateLimiting(redis, TimeSpan.FromMilliseconds(options.Redis.TimeoutMilliseconds));
        services.AddPerimeterEgress(options.Egress, options.ResolveDataPath("egress-ca.pem"), options.ResolveDataPath("egress-ca.key.pem"));
        services.AddPerimeterTunnels(new DeclaredTunnels(options.TunnelDefinitions), options.Inbound);
        // YARP reads the routes through a gate the policy store opens only for a reload that is valid
        // whole (routes and policy together); a half-written routes.json never reaches the route table.
        var gate = new RouteGate(config);
        services.AddSingleton(gate);
        services.AddSingleton(files);
        services.AddPerimeterProxy(new ConfigurationBuilder().Add(gate).Build().GetSection("ReverseProxy"));

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            var listeners = kestrel.ApplicationServices.GetRequiredService<PerimeterListeners>();
            listeners.AgentListen = PerimeterListenerSetup.Listen(kestrel, options, options.Listeners.Agent, ListenerKind.Agent);
            listeners.AdminListen = PerimeterListenerSetup.Listen(kestrel, options, options.Listeners.Admin, ListenerKind.Admin);
            if (options.Listeners.Tunnel is { } tunnel)
                listeners.TunnelListen = PerimeterListenerSetup.Listen(kestrel, options, tunnel, ListenerKind.Tunnel);
            if (options.Listeners.Inbound is { } inbound)
                listeners.InboundListen = PerimeterListenerSetup.Listen(kestrel, options, inbound, ListenerKind.Inbound);
            if (options.Listeners.Egress is { } egress)
                listeners.EgressListen = PerimeterListenerSetup.Listen(kestrel, options, egress, ListenerKind.Egress);
            if (options.Egress.UnixSocket is { } socket)
                listeners.EgressSocket = PerimeterListenerSetup.ListenEgressSocket(kestrel, options.ResolveDataPath(socket));
        });
        return builder;
    }

    /// <summary>
    /// The whole request path, in order, on one screen. Agent listener: action (audit + metrics) →
    /// identify → canonical path → route match → policy → forward. Admin listener: its endpoints only.
    /// </summary>
    public static WebApplication MapPerimeter(this WebApplication app)
    {
        app.UseWhen(ctx => ctx.GetListener() is ListenerKind.Agent or ListenerKind.Inbound, agent =>
        {
            agent.UseMiddleware<RequestFramingIndexMiddleware>(); // this request's index on its connection, before any early answer
            agent.UseMiddleware<ActionMiddleware>();    // one action, one audit record, one metric
            agent.UseMiddleware<PolicySnapshotMiddleware>(); // the policy version that decides this action, read once
            agent.UseMiddleware<RequestFramingGuardMiddleware>(); // one body framing (no CL with TE, no "+2"), before anything else reads it
            agent.UseMiddleware<Tunnels.InboundHostMiddleware>(); // inbound (mTLS) listener: <server>.<domain> only
            agent.UseMiddleware<Proxy.OriginGuardMiddleware>(); // browsers: listed origins (and hosts) only
            agent.UseMiddleware<OAuth.OAuthEndpointsMiddleware>(); // how a client gets a token: RFC 9728/8414 metadata, client_credentials
            agent.UseMiddleware<IdentityMiddleware>();  // JWT → agent, session, work type
            agent.UseMiddleware<PathGuardMiddleware>(); // the path checked is the path forwarded
        });
        app.UseWhen(ctx => ctx.GetListener() == ListenerKind.Tunnel, tunnel => tunnel.UseWebSockets());
        app.UseRouting();                               // YARP route match (unknown → fallback 404)

        app.MapReverseProxy(proxy =>
        {
            // Deciding: each stage refuses (deciding the action) or proposes; the seal fixes the decision.
            proxy.UseMiddleware<PolicyStage>();         // work type × route × method × path
            proxy.UseMiddleware<McpStage>();            // MCP routes: JSON-RPC → action; tools, arguments, session binding
            proxy.UseMiddleware<IdempotencyStage>();    // Idempotency-Key: execute once, replay the outcome
            proxy.UseMiddleware<ApprovalStage>();       // rules that need a human: hold until approved
            proxy.UseMiddleware<SecretsStage>();        // which credentials this work type may have injected
            proxy.UseMiddleware<DecisionSealStage>();   // the decision is fixed here; later stages add an outcome
            // After the decision: what they observe is the action's outcome.
            proxy.UseMiddleware<RateLimitStage>();      // one atomic GCRA check per action (Redis or memory)
            proxy.UseMiddleware<UpstreamErrorStage>();  // upstream failures in the perimeter's shape
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UseMiddleware<TunnelStage>();         // tunnel destination: recorded; no connector → 503
            proxy.UsePassiveHealthChecks();
            proxy.UseMiddleware<ForwardingBoundaryStage>(); // last: intent record durable, then the upstream may act on it
        });                                             // forward (credentials stripped by transform)

        // "{**path}" rather than MapFallback's default "{*path:nonfile}": a path that looks like a file
        // (e.g. /.well-known/jwks.json) is an action too and gets the same audited answer.
        app.MapFallback("{**path}", ctx => ActionResponses.RefuseAsync(ctx, StatusCodes.Status404NotFound,
            new PolicyDecision(DecisionOutcome.NotFound, RefusalCodes.RouteNotFound, null, "No route of this perimeter matches this request.")))
            .WithMetadata(new ListenerMetadata(ListenerKind.Agent, ListenerKind.Inbound));

        app.MapAdminEndpoints();
        app.MapTunnelEndpoints();
        ApprovalStatusEndpoint.MapApprovalStatus(app); // agent listener: a session asks about its own held calls
        ExternalActions.MapExternalActions(app);        // agent listener: a harness reports what it ran outside
        return app;
    }

    /// <summary>Registers the Redis connection when configured; returns the key prefix features use, or null for none.</summary>
    private static string? AddRedis(IServiceCollection services, RedisOptions redis)
    {
        if (string.IsNullOrWhiteSpace(redis.ConnectionString))
            return null;
        services.AddSingleton<StackExchange.Redis.IConnectionMultiplexer>(_ =>
        {
            var config = StackExchange.Redis.ConfigurationOptions.Parse(redis.ConnectionString);
            // Start (and keep retrying) without Redis: the failure modes decide what happens meanwhile.
            config.AbortOnConnectFail = false;
            if (!redis.ConnectionString.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
                config.ConnectTimeout = 2000;
            config.ReconnectRetryPolicy = new StackExchange.Redis.LinearRetry(500);
            return StackExchange.Redis.ConnectionMultiplexer.Connect(config);
        });
        return redis.KeyPrefix;
    }

    /// <summary>
    /// A configuration file that reloads on change. A version that does not parse is not thrown on the
    /// file watcher's thread (where it would be lost, and the reload signal with it): the reload goes
    /// on, and <see cref="PolicyStore"/> finds the syntax error in the file and refuses the change whole.
    /// At startup a parse error still throws, and the gateway exits with code 2 naming the file.
    /// </summary>
    private static void AddWatchedJsonFile(IConfigurationBuilder config, string path)
    {
        bool loading = true; // the first load happens inside AddJsonFile: its errors are not ignored
        config.AddJsonFile(source =>
        {
            source.Path = path;
            source.Optional = false;
            source.ReloadOnChange = true;
            source.ResolveFileProvider();
            source.OnLoadException = context => context.Ignore = !loading;
        });
        loading = false;
    }

    private static string ResolveConfigDirectory(IConfiguration config)
    {
        var configured = config["config-dir"] ?? config["PERIMETER_CONFIG_DIR"];
        if (!string.IsNullOrEmpty(configured))
            return Path.GetFullPath(configured);
        var local = Path.GetFullPath("config");
        if (File.Exists(Path.Combine(local, "perimeter.json")))
            return local;
        return Path.Combine(AppContext.BaseDirectory, "config");
    }

}
