using AgentPerimeter.Protocol.Hosting;

namespace AgentPerimeter.Cli;

/// <summary>
/// <c>perimeter check</c>: the gateway's own startup validation, run on files — by the gateway program
/// itself (<c>--check</c>), so the CLI needs none of the gateway's code and can never disagree with it.
/// </summary>
internal static class CheckCommand
{
    public static async Task<int> RunAsync(Args args)
    {
        var policyFile = Path.GetFullPath(args.Positionals.Count > 0 ? args.Positionals[0] : Path.Combine("config", "perimeter.json"));
        if (!File.Exists(policyFile))
            return Cli.Fail($"policy file '{policyFile}' does not exist.");
        if (GatewayProcess.Locate() is not { } gateway)
            return Cli.Fail(Cli.GatewayMissing);
        List<string> check = [GatewayCommandLine.Check, GatewayCommandLine.ConfigDir, Path.GetDirectoryName(policyFile)!, GatewayCommandLine.Policy, policyFile];
        if (args.Get("routes") is { } routes)
            check.AddRange([GatewayCommandLine.Routes, Path.GetFullPath(routes)]);
        var (exitCode, output, errors) = await GatewayProcess.RunToCompletionAsync(gateway, check);
        foreach (var line in output)
            Console.Out.WriteLine(line);
        foreach (var line in errors)
            Console.Error.WriteLine(line);
        return exitCode;
    }
}
