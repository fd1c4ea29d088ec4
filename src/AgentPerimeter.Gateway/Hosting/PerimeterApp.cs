using Serilog;
using Serilog.Formatting.Compact;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>Builds and runs the gateway; used by Program.cs, the CLI's demo and the tests.</summary>
public static class PerimeterApp
{
    /// <summary>Builds a gateway (not started). Throws <see cref="ConfigurationValidationException"/> on invalid configuration.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        builder.AddPerimeter(args);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapPerimeter();
        return app;
    }

    /// <summary>
    /// Runs until shutdown. Exit code 2 for invalid configuration, with every error logged. With
    /// <c>--check</c>, validates the configuration files and exits instead (see <see cref="CheckMode"/>).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (CheckMode.IsRequested(args))
            return CheckMode.Run(args, Console.Out, Console.Error);
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (ConfigurationValidationException ex)
        {
            // The host's logger does not exist yet: report through a bootstrap logger, one event per error.
            using var log = new LoggerConfiguration().WriteTo.Console(new CompactJsonFormatter()).CreateLogger();
            foreach (var error in ex.Errors)
                log.Fatal("Configuration error: {Error}", error);
            log.Fatal("The gateway did not start: {ErrorCount} configuration errors", ex.Errors.Count);
            return 2;
        }
        await app.RunAsync();
        return 0;
    }
}
