namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// <c>perimeter sandbox run --agent NAME [--work-type TYPE] [OPTIONS] [--] COMMAND [ARGS…]</c>: runs a
/// command whose only way to the network is the gateway's egress proxy.
/// <para>
/// How: the CLI gets a session token (<c>--token-file</c>, else <c>$PERIMETER_TOKEN</c>, else minted by the
/// admin listener for the work type and agent, as <c>perimeter token</c> does), then re-executes itself in a
/// new user and network namespace (<see cref="NetworkNamespace"/>) as the hidden
/// <c>sandbox relay</c> (<see cref="SandboxRelay"/>). Inside there is nothing but a loopback interface:
/// no route, so a direct connection to any address fails at once ("Network is unreachable"), and no
/// resolver can be reached, so DNS fails too — names are resolved by the gateway, for the requests it
/// allows. On <c>127.0.0.1:PORT</c> the relay passes every connection byte for byte to the gateway's
/// egress Unix socket, which crosses namespaces because it is a file. The command runs with the proxy
/// variables pointing there with its credentials (<see cref="SandboxEnvironment"/>), so HTTP clients send
/// absolute-form requests and CONNECTs to the gateway, authenticated as the session.
/// </para>
/// <para>
/// The token goes into the command's environment only: it is never printed, logged or put on a command
/// line (where any user could read it in <c>/proc</c>). The command's standard streams pass through, and
/// its exit code is returned (<see cref="SandboxExitCodes"/> for the CLI's own). The command never runs
/// outside a new namespace: when one cannot be made, the CLI says so and exits
/// <see cref="SandboxExitCodes.Unavailable"/>.
/// </para>
/// </summary>
internal static class SandboxCommand
{
    public const string Usage = "usage: perimeter sandbox run --agent NAME [--work-type TYPE] [--egress-socket PATH] [--port 3128] [--ca-file PEM] [--token-file FILE] [--admin URL] [--] COMMAND [ARGS...]";

    private const int DefaultPort = 3128;

    /// <summary>The gateway's default <c>Gateway:Egress:UnixSocket</c>: <c>egress.sock</c> in its data directory, <c>data/</c> where it runs.</summary>
    private static readonly string DefaultEgressSocket = Path.Combine("data", "egress.sock");

    private static readonly HashSet<string> RunOptions =
        ["work-type", "agent", "admin", "admin-token-file", "ttl", "token-file", "egress-socket", "port", "ca-file"];

    public static Task<int> RunAsync(string[] args) => args switch
    {
        ["run", .. var rest] => RunCommandAsync(rest),
        [SandboxRelay.Verb, .. var rest] => SandboxRelay.RunAsync(rest),
        _ => throw new ArgsException(Usage),
    };

    private static async Task<int> RunCommandAsync(string[] args)
    {
        var (options, command) = SandboxCommandLine.Split(args, "sandbox run", RunOptions);
        if (command.Length == 0)
            throw new ArgsException($"name the command to run in the sandbox ({Usage}).");
        var agent = options.Required("agent", "ci-bot");
        var port = options.Int("port") ?? DefaultPort;
        if (port is < 1 or > 65535)
            throw new ArgsException($"--port must be between 1 and 65535, not {port}.");
        var egressSocket = Path.GetFullPath(options.Get("egress-socket") ?? Environment.GetEnvironmentVariable("PERIMETER_EGRESS_SOCKET") ?? DefaultEgressSocket);
        var authority = options.Get("ca-file") is { } caFile ? CaBundle.ReadAuthority(caFile) : null;
        var token = GivenToken(options);
        if (token is null)
            options.Required("work-type", "build"); // to mint one, asked now rather than after the checks

        // What is checked here costs nothing and mints nothing: a session is only made for a sandbox that can run.
        if (await NetworkNamespace.WhyUnavailableAsync() is { } why)
            return NotRun($"cannot create a network namespace: {why}");
        if (EgressRelay.WhyUnreachable(egressSocket) is { } reason)
            return NotRun($"cannot reach the gateway's egress socket at {egressSocket} ({reason}). Is the gateway running with its egress listener there (Gateway:Egress:UnixSocket)? Set --egress-socket or PERIMETER_EGRESS_SOCKET");
        if (token is null)
        {
            (token, var exit) = await MintAsync(options, agent);
            if (token is null)
                return exit;
        }

        var dir = Directory.CreateTempSubdirectory("perimeter-sandbox-");
        try
        {
            string? bundle = null;
            if (authority is not null)
            {
                bundle = Path.Combine(dir.FullName, "ca-bundle.pem");
                CaBundle.Write(bundle, authority);
            }
            var ready = Path.Combine(dir.FullName, "started");
            var proxyUrl = SandboxEnvironment.ProxyUrl(agent, token, port);
            var (program, prefix) = Self();
            using var sandbox = NetworkNamespace.Start(program,
                [.. prefix, "sandbox", SandboxRelay.Verb, "--listen", $"127.0.0.1:{port}", "--to", egressSocket,
                 "--host-netns", NetworkNamespace.Current() ?? "", "--ready-file", ready, "--", .. command],
                environment => SandboxEnvironment.Apply(environment, proxyUrl, bundle));
            using (ChildSignals.ForwardTo(sandbox))
                await sandbox.WaitForExitAsync();
            // The relay's own refusals say why themselves; anything else before the ready mark (the runtime
            // failing to start inside, a signal) has only its exit code to tell.
            if (File.Exists(ready) || sandbox.ExitCode == SandboxExitCodes.SetupFailed)
                return sandbox.ExitCode;
            Console.Error.WriteLine($"perimeter: the sandbox stopped (exit code {sandbox.ExitCode}) before it started the command; the command was NOT run.");
            return SandboxExitCodes.SetupFailed;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A token the operator gives: <c>--token-file</c>, else <c>$PERIMETER_TOKEN</c> (minted already, or a
    /// sandbox with no admin listener to ask). Null when none is given and one is to be minted.
    /// </summary>
    private static string? GivenToken(Args options)
    {
        if (options.Get("token-file") is { } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ArgsException($"cannot read the token file '{file}': {ex.Message}");
            }
            return text.Length > 0 ? text : throw new ArgsException($"the token file '{file}' is empty.");
        }
        return Environment.GetEnvironmentVariable("PERIMETER_TOKEN") is { Length: > 0 } token ? token.Trim() : null;
    }

    /// <summary>A session token for the work type and agent from the admin listener, as <c>perimeter token</c> gets one, never printed.</summary>
    private static async Task<(string? Token, int Exit)> MintAsync(Args options, string agent)
    {
        var workType = options.Required("work-type", "build");
        var ttl = options.Int("ttl");
        string? token = null;
        var exit = await AdminClient.RunAsync(options, async http =>
        {
            (token, var code) = await TokenCommand.RequestAsync(http, agent, workType, ttl);
            return code;
        });
        return (token, exit);
    }

    /// <summary>How to run this CLI again: the same <c>dotnet</c> and assembly, or the single-file executable.</summary>
    private static (string Program, string[] Prefix) Self()
    {
        var assembly = typeof(SandboxCommand).Assembly.Location;
        return string.IsNullOrEmpty(assembly) ? (Environment.ProcessPath!, []) : (GatewayProcess.DotnetHost(), [assembly]);
    }

    private static int NotRun(string message)
    {
        Console.Error.WriteLine($"perimeter: {message}; the command was NOT run.");
        return SandboxExitCodes.Unavailable;
    }
}
