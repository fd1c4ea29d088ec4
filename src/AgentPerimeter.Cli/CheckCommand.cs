using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Gateway.Policy;
using Microsoft.Extensions.Configuration;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter check</c>: the gateway's own startup validation, run on files.</summary>
internal static class CheckCommand
{
    public static int Run(Args args)
    {
        var policyFile = Path.GetFullPath(args.Positionals.Count > 0 ? args.Positionals[0] : Path.Combine("config", "perimeter.json"));
        if (!File.Exists(policyFile))
            return Cli.Fail($"policy file '{policyFile}' does not exist.");
        var dir = Path.GetDirectoryName(policyFile)!;
        var routesFile = Path.GetFullPath(args.Get("routes") ?? Path.Combine(dir, "routes.json"));
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
            Console.Error.WriteLine($"{policyFile}: not valid JSON: {ex.Message}");
            return 1;
        }

        IReadOnlyList<string> errors = withRoutes
            ? ConfigurationValidator.Validate(config, dir).Errors
            : PolicyLoader.Load(config, knownRoutes: null, ConfigurationValidator.PolicySections(Gateway.Secrets.SecretLoadContext.Default with { BaseDirectory = dir })).Errors;
        if (errors.Count > 0)
        {
            Console.Error.WriteLine($"{policyFile}: {errors.Count} error(s):");
            foreach (var e in errors)
                Console.Error.WriteLine($"  - {e}");
            return 1;
        }

        var policy = PolicyLoader.Load(config, null, ConfigurationValidator.PolicySections(Gateway.Secrets.SecretLoadContext.Default with { BaseDirectory = dir })).Policy!;
        Console.Out.WriteLine($"{policyFile}: OK — {policy.WorkTypes.Count} work types, {policy.WorkTypes.Values.Sum(w => w.Rules.Count)} rules, version {policy.Version}"
            + (withRoutes ? $" (routes checked against {routesFile})" : " (routes not checked: no routes file)"));
        return 0;
    }
}
