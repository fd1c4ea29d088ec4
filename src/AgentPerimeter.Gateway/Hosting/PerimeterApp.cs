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
        if (args.Contains("--help", StringComparer.Ordinal) || args.Contains("-h", StringComparer.Ordinal))
        {
            Console.Out.Write(Usage);
            return 0;
        }
        if (CheckMode.IsRequested(args))
            return CheckMode.Run(args, Console.Out, Console.Error);
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (ConfigurationValidationException ex)
        {
            return Fatal(ex.Errors);
        }
        catch (Exception ex) when (StartupProblem(ex) is { } problem)
        {
            return Fatal([problem]);
        }
        try
        {
            await app.RunAsync();
        }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException || ex.Message.Contains("bind", StringComparison.OrdinalIgnoreCase))
        {
            // A port taken by another process (or an address this host does not have): the operator's to fix.
            return Fatal([$"a listener could not start: {ex.Message} Choose another address in Gateway:Listeners (port 0 picks a free one)."]);
        }
        return 0;
    }

    public const string Usage = """
        agentperimeter-gateway: the AgentPerimeter gateway.

        usage: agentperimeter-gateway [--config-dir DIR] [--policy FILE] [--routes FILE] [--Section:Key=value ...]
               agentperimeter-gateway --check [--config-dir DIR] [--policy FILE] [--routes FILE]

          --config-dir DIR   gateway.json, routes.json and perimeter.json (default: ./config, else the copy
                             beside the program; also PERIMETER_CONFIG_DIR). Relative paths start at the
                             current directory.
          --policy FILE      perimeter.json elsewhere;  --routes FILE  routes.json elsewhere
          --check            validate the configuration (every error, file and line) and exit: 0 valid, 2 not
          --Gateway:...      any gateway.json setting, e.g. --Gateway:Listeners:Agent=http://127.0.0.1:8080
          --help             this text

        Exit codes: 0 stopped normally; 2 the configuration is invalid or a listener could not start.

        """;

    /// <summary>Reports startup errors through a bootstrap logger (the host's does not exist yet), one event each; exit code 2.</summary>
    private static int Fatal(IReadOnlyList<string> errors)
    {
        using var log = new LoggerConfiguration().WriteTo.Console(new CompactJsonFormatter()).CreateLogger();
        foreach (var error in errors)
            log.Fatal("Configuration error: {Error}", error);
        log.Fatal("The gateway did not start: {ErrorCount} configuration errors", errors.Count);
        return 2;
    }

    /// <summary>
    /// A configuration file the host could not load, said plainly: which file, and for a JSON syntax
    /// error the line and column (1-based). Null for anything else (a bug, which keeps its stack trace).
    /// </summary>
    internal static string? StartupProblem(Exception ex)
    {
        switch (ex)
        {
            case FileNotFoundException notFound:
                return $"configuration file not found: {notFound.FileName ?? notFound.Message} (pass --config-dir DIR, or set PERIMETER_CONFIG_DIR, to the folder that holds routes.json and perimeter.json)";
            case DirectoryNotFoundException missing:
                return $"configuration directory not found: {missing.Message}";
            case InvalidDataException invalid:
            {
                var json = FindInner<System.Text.Json.JsonException>(invalid);
                var file = System.Text.RegularExpressions.Regex.Match(invalid.Message, "'(?<file>[^']+)'").Groups["file"].Value;
                if (json is { LineNumber: not null })
                    return Policy.RouteConfigCheck.Describe(file.Length > 0 ? file : "a configuration file", json);
                return $"{(file.Length > 0 ? file : "a configuration file")}: {invalid.InnerException?.Message ?? invalid.Message}";
            }
            default:
                return null;
        }
    }

    private static T? FindInner<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found)
                return found;
        }
        return null;
    }
}
