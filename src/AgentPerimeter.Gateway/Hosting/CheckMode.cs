using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Secrets;
using AgentPerimeter.Protocol.Hosting;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>
/// <c>--check [--config-dir DIR] [--policy FILE] [--routes FILE]</c>: the startup validation run on the
/// files alone (no environment or command-line overrides; nothing is started), so a change can be
/// checked before it is deployed. Prints one OK line, or every error; exits 0 or 1. The config
/// directory (for <c>gateway.json</c> and the default file names) is <c>--config-dir</c>, else the
/// policy file's directory, else <c>./config</c>. <c>perimeter check</c> runs the gateway this way.
/// </summary>
internal static class CheckMode
{
    public static bool IsRequested(string[] args) => args.Contains(GatewayCommandLine.Check, StringComparer.Ordinal);

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var policyOption = Option(args, GatewayCommandLine.Policy);
        var dir = Path.GetFullPath(Option(args, GatewayCommandLine.ConfigDir)
            ?? (policyOption is not null ? Path.GetDirectoryName(Path.GetFullPath(policyOption))! : "config"));
        var policyFile = Path.GetFullPath(policyOption ?? Path.Combine(dir, "perimeter.json"));
        if (!File.Exists(policyFile))
        {
            error.WriteLine($"policy file '{policyFile}' does not exist.");
            return GatewayCommandLine.CheckFailed;
        }
        var routesFile = Path.GetFullPath(Option(args, GatewayCommandLine.Routes) ?? Path.Combine(dir, "routes.json"));
        var gatewayFile = Path.Combine(dir, "gateway.json");

        var builder = new ConfigurationBuilder();
        bool withRoutes = File.Exists(routesFile);
        if (File.Exists(gatewayFile))
            builder.AddJsonFile(gatewayFile, optional: false);
        if (withRoutes)
            builder.AddJsonFile(routesFile, optional: false);
        builder.AddJsonFile(policyFile, optional: false);

        IConfiguration config;
        try
        {
            config = builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            error.WriteLine($"{policyFile}: not valid JSON: {ex.Message}");
            return GatewayCommandLine.CheckFailed;
        }

        var secrets = SecretLoadContext.Default with { BaseDirectory = dir };
        IReadOnlyList<string> errors = withRoutes
            ? ConfigurationValidator.Validate(config, dir).Errors
            : PolicyLoader.Load(config, knownRoutes: null, ConfigurationValidator.PolicySections(secrets)).Errors;
        if (errors.Count > 0)
        {
            error.WriteLine($"{policyFile}: {errors.Count} error(s):");
            foreach (var e in errors)
                error.WriteLine($"  - {e}");
            return GatewayCommandLine.CheckFailed;
        }

        var policy = PolicyLoader.Load(config, null, ConfigurationValidator.PolicySections(secrets)).Policy!;
        output.WriteLine($"{policyFile}: OK — {policy.WorkTypes.Count} work types, {policy.WorkTypes.Values.Sum(w => w.Rules.Count)} rules, version {policy.Version}"
            + (withRoutes ? $" (routes checked against {routesFile})" : " (routes not checked: no routes file)"));
        return GatewayCommandLine.CheckPassed;
    }

    /// <summary><c>--name value</c> or <c>--name=value</c>.</summary>
    private static string? Option(string[] args, string name)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == name && i + 1 < args.Length)
                return args[i + 1];
            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
                return args[i][(name.Length + 1)..];
        }
        return null;
    }
}
