using AgentPerimeter.Gateway.Secrets;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

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
            sinks.WriteTo.Console(new RenderedCompactJsonFormatter());
        if (options.Logging.File is { } file)
            sinks.WriteTo.File(new RenderedCompactJsonFormatter(), options.ResolveDataPath(file));
        log.WriteTo.Sink(new ScrubbingLogSink(sinks.CreateLogger(), services.GetRequiredService<SecretScrubber>()));
    };
}
