using AgentPerimeter.Protocol.Refusals;
using System.Net;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Approvals;
using AgentPerimeter.Gateway.Idempotency;
using AgentPerimeter.Gateway.Admin;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Identity;
using AgentPerimeter.Gateway.Mcp;
using AgentPerimeter.Gateway.RateLimiting;
using AgentPerimeter.Gateway.Secrets;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Proxy;
using AgentPerimeter.Gateway.Tunnels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using KestrelListenOptions = Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>Serilog for one gateway: compact JSON to the console and/or a file, every sink behind the secret scrubber.</summary>
internal static class PerimeterLogging
{
    public static Action<IServiceProvider, LoggerConfiguration> Configure(GatewayOptions options) => (services, log) =>
    {
        log.MinimumLevel.Is(Enum.Parse<LogEventLevel>(options.Logging.MinimumLevel, ignoreCase: true))
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.AspNetCore.DataProtection", LogEventLevel.Error)
            .MinimumLevel.Override("Yarp", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        // Every sink sits behind the scrubber: no secret value reaches a log line.
        var sinks = new LoggerConfiguration().MinimumLevel.Verbose();
        if (options.Logging.Console)
            sinks.WriteTo.Console(new CompactJsonFormatter());
        if (options.Logging.File is { } file)
            sinks.WriteTo.File(new CompactJsonFormatter(), options.ResolveDataPath(file));
        log.WriteTo.Sink(new ScrubbingLogSink(sinks.CreateLogger(), services.GetRequiredService<SecretScrubber>()));
    };
}
