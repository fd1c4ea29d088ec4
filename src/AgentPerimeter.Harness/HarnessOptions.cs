namespace AgentPerimeter.Harness;

/// <summary>Limits checked after every step; reaching one stops the session with its typed reason.</summary>
public sealed record Budgets
{
    public int MaxTurns { get; init; } = 20;
    public long MaxInputTokens { get; init; } = 200_000;
    public long MaxOutputTokens { get; init; } = 50_000;
    public TimeSpan MaxWallClock { get; init; } = TimeSpan.FromMinutes(15);
    public int MaxConsecutiveErrors { get; init; } = 3;
}

/// <summary>Everything a session run needs; read from the command line and environment.</summary>
public sealed record HarnessOptions
{
    /// <summary>The gateway's agent listener (where tools are reached).</summary>
    public required Uri Gateway { get; init; }
    /// <summary>The gateway's admin listener (session tokens, approval status).</summary>
    public required Uri Admin { get; init; }
    public string? AdminToken { get; init; }
    /// <summary>A session token the operator issued; with it the harness needs no admin API at all.</summary>
    public string? SessionToken { get; init; }
    /// <summary>The MCP routes on the gateway whose tools the model may use (path relative to the gateway).</summary>
    public IReadOnlyList<string> McpPaths { get; init; } = ["/mcp"];
    public string Agent { get; init; } = "harness";
    public string? WorkType { get; init; }
    public string? Task { get; init; }
    public string JournalDirectory { get; init; } = "data/sessions";
    /// <summary>A file of scripted model turns; when set, no model API is called.</summary>
    public string? ScriptFile { get; init; }
    public string Model { get; init; } = "claude-sonnet-4-5";
    public int MaxTokensPerTurn { get; init; } = 4096;
    public string? AnthropicApiKey { get; init; }
    public string? AnthropicBaseUrl { get; init; }
    /// <summary>
    /// Built-in tools the harness runs itself, outside the perimeter (<c>current_time</c>). Each call is
    /// reported to the gateway, which counts it as an ungoverned action. None by default.
    /// </summary>
    public IReadOnlySet<string> LocalTools { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// The gateway's egress Unix socket: when set, the model is offered <c>run_command</c>, a shell command
    /// the harness runs with <c>perimeter sandbox run</c> — in a network namespace whose only way out is
    /// that socket — so every connection it makes is an egress action the gateway decides and records.
    /// </summary>
    public string? SandboxEgressSocket { get; init; }

    /// <summary>The <c>perimeter</c> program that makes the sandbox (a path; a <c>.dll</c> runs with <c>dotnet</c>).</summary>
    public string PerimeterCli { get; init; } = "perimeter";

    /// <summary>Tools safe to repeat after an upstream error (reads); others are never retried on one.</summary>
    public IReadOnlySet<string> IdempotentTools { get; init; } = new HashSet<string>(StringComparer.Ordinal);
    public Budgets Budgets { get; init; } = new();
    /// <summary>How long a held call waits for a human before the session stops (approval_timeout).</summary>
    public TimeSpan ApprovalWait { get; init; } = TimeSpan.FromMinutes(30);
    public string SystemPrompt { get; init; } =
        "You are an agent working through the AgentPerimeter gateway. Use the tools you are given. " +
        "When a tool call is refused by the perimeter, do not try to get around the refusal; explain it or choose another way.";
    /// <summary>Write the step log to the console (off when a host shows the session its own way).</summary>
    public bool ConsoleLogs { get; init; } = true;

    /// <summary>Test hook: exit abruptly right after this tool's call returns, before its outcome is journaled.</summary>
    public string? CrashAfterCallOf { get; init; }

    /// <summary>The record's generated ToString would print the admin token and the model API key: not these.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Gateway = {Gateway}, Admin = {Admin}, WorkType = {WorkType}, Agent = {Agent}, Model = {Model}, Script = {ScriptFile}");
        return true;
    }

    public const string Usage = """
        agentperimeter-harness: runs an agent session whose every tool call goes through the AgentPerimeter gateway.

          run --work-type TYPE --task "..."     start a session
          resume SESSION_ID                     continue a session from its journal (after a crash)

        options:
          --gateway URL             the gateway's agent listener (default http://127.0.0.1:8080)
          --admin URL               its admin listener, for session tokens and approvals (default http://127.0.0.1:9090)
          --admin-token-file FILE   the operators' admin token, when the gateway requires one (or PERIMETER_ADMIN_TOKEN)
          --token-file FILE         a session token issued by an operator (or PERIMETER_SESSION_TOKEN): the harness
                                    then uses no admin API (its work type and session come from the token)
          --mcp PATHS               MCP routes on the gateway, comma-separated (default /mcp)
          --agent NAME              the agent's name in the session (default harness)
          --script FILE             scripted model turns (offline runs, demos, tests); otherwise Claude:
          --model MODEL             Claude model (default claude-sonnet-4-5); key from ANTHROPIC_API_KEY,
                                    base URL from ANTHROPIC_BASE_URL
          --idempotent-tools LIST   tools safe to retry after an upstream error, comma-separated
          --local-tools LIST        built-in tools run by the harness itself (current_time); every call is
                                    reported to the gateway and counted there as ungoverned
          --sandbox EGRESS_SOCKET   offer the model run_command: a shell command run in a sandbox whose only
                                    way out is the gateway's egress socket (every connection governed)
          --perimeter-cli PATH      the perimeter program that makes the sandbox (default: perimeter on PATH)
          --max-turns N --max-input-tokens N --max-output-tokens N --max-seconds N --max-consecutive-errors N
          --approval-wait SECONDS   how long to wait for a human's decision (default 1800)
          --journal-dir DIR         where session journals live (default data/sessions)
        """;

    public static (HarnessOptions? Options, string? Error) Read(IConfiguration config)
    {
        string? Get(string key) => config[key];
        try
        {
            var budgets = new Budgets
            {
                MaxTurns = Int("max-turns", 20),
                MaxInputTokens = Int("max-input-tokens", 200_000),
                MaxOutputTokens = Int("max-output-tokens", 50_000),
                MaxWallClock = TimeSpan.FromSeconds(Int("max-seconds", 900)),
                MaxConsecutiveErrors = Int("max-consecutive-errors", 3),
            };
            var tokenFile = Get("admin-token-file");
            return (new HarnessOptions
            {
                Gateway = new Uri(Get("gateway") ?? Environment.GetEnvironmentVariable("PERIMETER_GATEWAY_URL") ?? "http://127.0.0.1:8080"),
                Admin = new Uri(Get("admin") ?? Environment.GetEnvironmentVariable("PERIMETER_ADMIN_URL") ?? "http://127.0.0.1:9090"),
                AdminToken = tokenFile is not null ? File.ReadAllText(tokenFile).Trim() : Environment.GetEnvironmentVariable("PERIMETER_ADMIN_TOKEN"),
                SessionToken = Get("token-file") is { } sessionFile ? File.ReadAllText(sessionFile).Trim() : Environment.GetEnvironmentVariable("PERIMETER_SESSION_TOKEN"),
                McpPaths = (Get("mcp") ?? "/mcp").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Agent = Get("agent") ?? "harness",
                WorkType = Get("work-type"),
                Task = Get("task"),
                JournalDirectory = Get("journal-dir") ?? "data/sessions",
                ScriptFile = Get("script"),
                Model = Get("model") ?? "claude-sonnet-4-5",
                AnthropicApiKey = Environment.GetEnvironmentVariable("ANTHROPIC_API_KEY"),
                AnthropicBaseUrl = Environment.GetEnvironmentVariable("ANTHROPIC_BASE_URL"),
                LocalTools = (Get("local-tools") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal) is var local
                    && local.All(BuiltInLocalTools.Names.Contains) ? local
                    : throw new FormatException($"--local-tools: known local tools are {string.Join(", ", BuiltInLocalTools.Names)}."),
                SandboxEgressSocket = Get("sandbox"),
                PerimeterCli = Get("perimeter-cli") ?? Environment.GetEnvironmentVariable("PERIMETER_CLI") ?? "perimeter",
                IdempotentTools = (Get("idempotent-tools") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal),
                Budgets = budgets,
                ApprovalWait = TimeSpan.FromSeconds(Int("approval-wait", 1800)),
                CrashAfterCallOf = Environment.GetEnvironmentVariable("PERIMETER_HARNESS_CRASH_AFTER_CALL"),
            }, null);

            int Int(string key, int fallback) =>
                Get(key) is { } raw ? (int.TryParse(raw, out var v) && v > 0 ? v : throw new FormatException($"--{key}: '{raw}' is not a positive number.")) : fallback;
        }
        catch (Exception ex) when (ex is FormatException or UriFormatException or IOException)
        {
            return (null, ex.Message);
        }
    }
}
