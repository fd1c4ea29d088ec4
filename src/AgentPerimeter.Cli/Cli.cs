using AgentPerimeter.Cli.Sandbox;

namespace AgentPerimeter.Cli;

/// <summary>The operator's command line: <c>perimeter COMMAND ...</c>.</summary>
internal static class Cli
{
    public const string Usage = """
        perimeter — the AgentPerimeter operator's command line

        Usage:
          perimeter demo [--exit] [--agent-port N] [--admin-port N] [--upstream-port N] [--egress-port N] [--data-dir DIR]
              Start the gateway and the bundled demo upstream on embedded defaults, run a scripted
              tour of allowed and denied actions, then keep serving (Ctrl+C stops) unless --exit.
          perimeter token --work-type TYPE --agent NAME [--ttl SECONDS] [--admin URL]
              Ask the gateway's admin listener for a session token; prints only the token.
          perimeter check [POLICY_FILE] [--routes ROUTES_FILE]
              Validate a policy file (default config/perimeter.json) as the gateway would at startup.
          perimeter tools list [--admin URL]
          perimeter tools approve ROUTE TOOL [--admin URL]
              Show pinned MCP tool definitions; re-approve a tool whose definition changed.
          perimeter tunnels [--admin URL]
          perimeter approvals list [--all] | approve ID | deny ID [--admin URL]
          perimeter sessions list [--admin URL]
          perimeter sessions revoke SESSION_ID | --agent NAME [--admin URL]
              The kill switch: every replica refuses a revoked session (or all of an agent's) within a second.
          perimeter secrets [--json] [--admin URL]
              The secret inventory: source, bindings, work types, use. Never a value.
          perimeter ca export [--admin URL]
              The gateway's egress inspection CA (PEM): trust it in sandboxes that reach Inspect hosts.
          perimeter actions [--admin URL]
              Actions in flight: intent recorded, outcome not yet (id, age, agent, work type, route, target).
          perimeter sandbox run --agent NAME [--work-type TYPE] [--egress-socket PATH] [--port 3128] [--ca-file PEM]
                                [--token-file FILE] [--admin URL] [--] COMMAND [ARGS...]
              Run COMMAND in its own network namespace whose only way out is the gateway's egress proxy (its Unix
              socket, relayed to 127.0.0.1:PORT inside; HTTP_PROXY/HTTPS_PROXY/ALL_PROXY carry the session token).
              Direct connections and DNS fail inside. Needs user and network namespaces (util-linux 'unshare').
              Token: --token-file FILE, else $PERIMETER_TOKEN, else minted for --work-type and --agent by the admin listener.
              Egress socket: --egress-socket, else $PERIMETER_EGRESS_SOCKET, else data/egress.sock.
              --ca-file: the gateway's inspection CA, added to the system bundle behind SSL_CERT_FILE and the like.
              Exit: the command's code; 69 when no sandbox can be made (no namespace, no egress socket), 70 when it
              could not be made ready — in both cases the command was NOT run.
          perimeter audit verify FILE|DIR [--checkpoints FILE]
              Verify an audit log (or a rotated series in DIR) and, with --checkpoints, that its tail is whole.
              Exit 0 intact, 1 tampered (edited, removed, reordered, a file missing, tail truncated),
              3 a torn last line left by a crash (records before it intact).

        Admin URL: --admin, else $PERIMETER_ADMIN_URL, else http://127.0.0.1:9090.
        Admin token (when the gateway sets Gateway:Admin:TokenFile): --admin-token-file FILE, else $PERIMETER_ADMIN_TOKEN.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length == 0 ? 64 : 0;
        }
        try
        {
            var rest = args[1..];
            return args[0] switch
            {
                "demo" => await DemoCommand.RunAsync(new Args(rest).Only(["exit", "agent-port", "admin-port", "upstream-port", "egress-port", "data-dir"])),
                "token" => await TokenCommand.RunAsync(new Args(rest).Only([.. AdminOptions, "work-type", "agent", "ttl"])),
                "check" => await CheckCommand.RunAsync(new Args(rest).Only(["routes"])),
                "tools" => await ToolsCommand.RunAsync(new Args(rest).Only([.. AdminOptions, "hash"])),
                "secrets" => await SecretsCommand.RunAsync(new Args(rest).Only([.. AdminOptions, "json"])),
                "sessions" => await SessionsCommand.RunAsync(new Args(rest).Only([.. AdminOptions, "agent"])),
                "tunnels" => await TunnelsCommand.RunAsync(new Args(rest).Only(AdminOptions)),
                "approvals" => await ApprovalsCommand.RunAsync(new Args(rest).Only([.. AdminOptions, "all"])),
                "actions" => await ActionsCommand.RunAsync(new Args(rest).Only(AdminOptions)),
                "ca" => await CaCommand.RunAsync(new Args(rest).Only(AdminOptions)),
                "sandbox" => await SandboxCommand.RunAsync(rest),
                "audit" when rest.Length > 0 && rest[0] == "verify" => AuditCommand.Verify(new Args(rest[1..]).Only(["checkpoints"])),
                _ => Fail($"unknown command '{string.Join(' ', args)}'. Run 'perimeter --help'."),
            };
        }
        catch (ArgsException ex)
        {
            return Fail(ex.Message);
        }
    }

    /// <summary>Options of every command that talks to the admin listener.</summary>
    private static readonly string[] AdminOptions = ["admin", "admin-token-file"];

    /// <summary>Exit codes (sysexits): 0 done; 1 a check failed (audit verify: tampered); 64 usage; 69 the gateway
    /// cannot be reached (or answered something that is not its admin API); 77 the admin API refused (admin token).</summary>
    public const int ExitUsage = 64, ExitUnavailable = 69, ExitRefused = 77;

    /// <summary>The gateway program is not installed beside the CLI (its build or publish puts it in gateway/).</summary>
    public const string GatewayMissing =
        "cannot find the gateway program (AgentPerimeter.Gateway.dll) in the gateway/ folder beside the CLI. Build or publish the CLI project, which puts it there.";

    public static int Fail(string message, int exitCode = ExitUsage)
    {
        Console.Error.WriteLine($"perimeter: {message}");
        return exitCode;
    }
}
