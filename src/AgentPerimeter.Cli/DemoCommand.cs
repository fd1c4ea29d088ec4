using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.DemoUpstream;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Audit;
using AgentPerimeter.Protocol.Messages;
using ModelContextProtocol.Client;

namespace AgentPerimeter.Cli;

/// <summary>
/// <c>perimeter demo</c>: the quick start. Runs the bundled demo upstream (in process) and the gateway
/// (a child process, stopped with the demo) on embedded defaults (local signing key, shipped config,
/// audit under ./data), walks through allowed and denied actions over HTTP and MCP, shows the
/// governed-action percentage and the audit chain, then serves.
/// </summary>
internal static partial class DemoCommand
{
    private static string _builderAgent = "ci-bot";
    private static string _releaseAgent = "release-bot";

    public static async Task<int> RunAsync(Args args)
    {
        int agentPort = args.Int("agent-port") ?? 8080;
        int adminPort = args.Int("admin-port") ?? 9090;
        int upstreamPort = args.Int("upstream-port") ?? 5081;
        int egressPort = args.Int("egress-port") ?? 3128;
        var dataDir = Path.GetFullPath(args.Get("data-dir") ?? "data");
        bool reusing = File.Exists(Path.Combine(dataDir, "audit.jsonl"));
        if (GatewayProcess.Locate() is not { } gatewayDll)
            return Cli.Fail(Cli.GatewayMissing);

        // The demo customer service expects the key the gateway injects from config/secrets/ (the
        // gateway reads ./config when there is one, else the config shipped beside it).
        var keyFile = new[] { Path.GetFullPath(Path.Combine("config", "secrets", "customers-api-key")), Path.Combine(Path.GetDirectoryName(gatewayDll)!, "config", "secrets", "customers-api-key") }
            .FirstOrDefault(File.Exists);
        if (keyFile is not null)
            Environment.SetEnvironmentVariable("DEMO_CUSTOMERS_API_KEY", File.ReadAllText(keyFile).TrimEnd('\r', '\n'));
        await using var upstream = DemoUpstreamApp.Build(["--urls", $"http://127.0.0.1:{upstreamPort}"]);
        try
        {
            await upstream.StartAsync();
        }
        catch (IOException ex)
        {
            return Cli.Fail($"cannot start the demo upstream on port {upstreamPort} ({ex.Message}). Pass --upstream-port N.");
        }
        var upstreamUrl = upstream.Urls.First();

        var auditPath = _auditPath = Path.Combine(dataDir, "audit.jsonl");
        string[] gatewayArgs =
        [
            $"--Gateway:Listeners:Agent=http://127.0.0.1:{agentPort}",
            $"--Gateway:Listeners:Admin=http://127.0.0.1:{adminPort}",
            $"--Gateway:DataDirectory={dataDir}",
            $"--Gateway:Audit:Path={auditPath}",
            // Its log goes to the file; the demo reads where it listens from standard output.
            "--Gateway:Logging:Console=true",
            "--Gateway:Logging:File=gateway.log",
            $"--ReverseProxy:Clusters:demo:Destinations:demo-1:Address={upstreamUrl}/",
            // The sandbox egress proxy: TCP for sandboxes you point at it, a Unix socket for 'perimeter sandbox run'.
            $"--Gateway:Listeners:Egress=http://127.0.0.1:{egressPort}",
            "--Gateway:Egress:UnixSocket=egress.sock",
        ];
        GatewayProcess gateway;
        try
        {
            gateway = await GatewayProcess.StartAsync(gatewayDll, gatewayArgs, TimeSpan.FromSeconds(60));
        }
        catch (GatewayStartException ex) when (ex.ExitCode == Protocol.Hosting.GatewayCommandLine.InvalidConfiguration)
        {
            return Cli.Fail($"the gateway did not start: {ex.Message}");
        }
        catch (GatewayStartException ex)
        {
            return Cli.Fail($"cannot start the gateway on ports {agentPort}/{adminPort} ({ex.Message}). Pass --agent-port N --admin-port N.");
        }
        await using var stopGateway = gateway;
        var agentUri = gateway.AgentUri;
        var adminUri = gateway.AdminUri;

        Console.Out.WriteLine($"""
            AgentPerimeter demo
              agent listener   {agentUri}   (point agents here)
              admin listener   {adminUri}   (/metrics /healthz /readyz /admin)
              demo upstream    {upstreamUrl}   (HTTP API /api, MCP server /mcp — only reachable through the gateway's policy)
              audit log        {auditPath}
              gateway log      {Path.Combine(dataDir, "gateway.log")}

            """);
        if (reusing)
            Console.Out.WriteLine($"""
                Note: reusing the data directory {dataDir} of an earlier run: its audit log goes on (one chain),
                its signing key, revocations and pinned tools stay. Pass --data-dir DIR for a fresh one.

                """);

        using var admin = new HttpClient { BaseAddress = adminUri };
        using var agent = new HttpClient { BaseAddress = agentUri };
        // An earlier run's kill switch stays in force (perimeter sessions revoke --agent alice): a revoked
        // demo agent is not brought back; this run uses a new name for it instead.
        var revoked = (await admin.GetFromJsonAsync<List<string>>("admin/revocations") ?? []).ToHashSet(StringComparer.Ordinal);
        string Agent(string name)
        {
            if (!revoked.Contains($"agent:{name}"))
                return name;
            var fresh = $"{name}-{Guid.NewGuid().ToString("N")[..4]}";
            Console.Out.WriteLine($"Note: agent '{name}' was revoked in an earlier run and stays revoked; this run uses '{fresh}'.");
            return fresh;
        }
        var explorer = await MintAsync(admin, Agent("alice"), "exploration");
        var builder = await MintAsync(admin, _builderAgent = Agent("ci-bot"), "build");
        var analyst = await MintAsync(admin, Agent("data-analyst"), "sensitive-data");
        _releaseAgent = Agent("release-bot");

        Console.Out.WriteLine($"{"work type",-15} {"action",-38} {"status",6}  {"decision",-16} {"rule / reason",-28} action id");
        await ShowAsync(agent, explorer.Token, "exploration", HttpMethod.Get, "/api/repos");
        await ShowAsync(agent, explorer.Token, "exploration", HttpMethod.Post, "/api/builds");
        await ShowAsync(agent, builder.Token, "build", HttpMethod.Post, "/api/builds");
        await ShowAsync(agent, builder.Token, "build", HttpMethod.Post, "/api/deployments");
        var customer = await ShowAsync(agent, analyst.Token, "sensitive-data", HttpMethod.Get, "/api/customers/42");
        await ShowAsync(agent, analyst.Token, "sensitive-data", HttpMethod.Get, "/api/exports/q3-2026");
        await ShowAsync(agent, explorer.Token, "exploration", HttpMethod.Get, "/api/repos/..%2Fadmin%2Fwipe");
        await ShowAsync(agent, explorer.Token, "exploration", HttpMethod.Get, "/internal/metrics");
        await ShowAsync(agent, null, "(no token)", HttpMethod.Get, "/api/repos");
        await ShowAsync(agent, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.", "(forged)", HttpMethod.Get, "/api/repos");
        await McpTourAsync(agentUri, explorer.Token, builder.Token);
        await HarnessTourAsync(agentUri, adminUri, dataDir);
        await SandboxTourAsync(adminUri, dataDir, upstreamPort);

        // The kill switch: revoke the analyst's session; its still-valid token stops working at once.
        (await admin.PostAsync($"admin/sessions/{analyst.SessionId}/revoke", null)).EnsureSuccessStatusCode();
        await ShowAsync(agent, analyst.Token, "sensitive-data", HttpMethod.Get, "/api/customers/42");

        Console.Out.WriteLine($"""

            The customer service got the key the gateway injected (X-Api-Key, secret 'customers-api-key'),
            and echoed it back; what the agent received:
              {customer}
            """);

        var metrics = await admin.GetStringAsync(PerimeterPaths.Metrics);
        var (governed, total) = GovernedCounts(metrics);
        var verification = AuditVerifier.Verify(auditPath);
        Console.Out.WriteLine($"""

            governed-action percentage: {(total == 0 ? 0 : 100.0 * governed / total):0.0}% ({governed} of {total} actions; the report-only export is the ungoverned one)
            audit chain: {(verification.IsIntact ? "intact" : "BROKEN")}, {verification.Records} records (perimeter audit verify {auditPath})

            Try it yourself:
              export PERIMETER_TOKEN={explorer.Token}
              curl -i -H "Authorization: Bearer $PERIMETER_TOKEN" {agentUri}api/repos
              curl -s {adminUri}metrics | grep agentperimeter_
            """);

        if (args.Flag("exit"))
            return verification.IsIntact ? 0 : 1;

        Console.Out.WriteLine("Serving. Press Ctrl+C to stop.");
        var stop = new TaskCompletionSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
        // The upstream's host hears SIGTERM (and Ctrl+C) and stops: so does the demo. So it does when the
        // gateway ends on its own. Either way the gateway is stopped before the demo returns.
        using var stopping = upstream.Lifetime.ApplicationStopping.Register(() => stop.TrySetResult());
        await Task.WhenAny(stop.Task, gateway.Exited);
        await gateway.DisposeAsync();
        await upstream.StopAsync();
        return 0;
    }

    private static async Task<SessionTokenResponse> MintAsync(HttpClient admin, string agent, string workType)
    {
        var response = await admin.PostAsJsonAsync(PerimeterPaths.AdminSessions, new SessionTokenRequest(agent, workType), ProtocolJsonContext.Default.SessionTokenRequest);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.SessionTokenResponse))!;
    }

    private static async Task<string> ShowAsync(HttpClient agent, string? token, string label, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, new Uri(agent.BaseAddress!, path)) { Content = method == HttpMethod.Post ? JsonContent.Create(new { }) : null };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await agent.SendAsync(request);
        // The decision shown is the one the audit log recorded for this action id.
        var id = response.Headers.TryGetValues(PerimeterHeaders.ActionId, out var ids) ? ids.First() : "-";
        var (decision, detail) = FromAudit(id);
        Console.Out.WriteLine($"{label,-15} {method.Method + " " + path,-38} {(int)response.StatusCode,6}  {decision,-16} {detail,-28} {id}");
        return await response.Content.ReadAsStringAsync();
    }

    private static string _auditPath = "";

    private static (string Decision, string Detail) FromAudit(string actionId) => FindInAudit($"\"action_id\":\"{actionId}\"");

    private static (string Decision, string Detail) FindInAudit(string needle)
    {
        foreach (var line in File.ReadLines(_auditPath).Reverse())
        {
            if (!line.Contains(needle, StringComparison.Ordinal))
                continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var rule = r.GetProperty("rule").GetString();
            return (r.GetProperty("decision").GetString()!, rule ?? r.GetProperty("code").GetString()!);
        }
        return ("(no record)", "");
    }

    /// <summary>
    /// A command run the way an agent's code runs: in a sandbox whose only way out is the gateway's egress
    /// proxy. One request its work type allows, one it does not; both are egress actions in the audit.
    /// </summary>
    private static async Task SandboxTourAsync(Uri adminUri, string dataDir, int upstreamPort)
    {
        Console.Out.WriteLine();
        Console.Out.WriteLine("Sandboxed command (perimeter sandbox run --work-type build --agent ci-bot -- sh -c '…'): its network namespace has no way out but the gateway");
        var script = $"for u in http://localhost:{upstreamPort}/api/repos http://example.com/; do printf '  %-38s HTTP %s\\n' \"curl $u\" \"$(curl -s -o /dev/null -w '%{{http_code}}' $u)\"; done";
        int exit = await Sandbox.SandboxCommand.RunAsync(
            ["run", "--agent", _builderAgent, "--work-type", "build", "--admin", adminUri.ToString(), "--egress-socket", Path.Combine(dataDir, "egress.sock"), "--", "sh", "-c", script]);
        if (exit != 0)
            Console.Out.WriteLine($"  (the sandbox could not run here, exit {exit}: see the message above; everything else in the tour is unaffected)");
        else
            Console.Out.WriteLine("  the first was allowed by egress rule 'build-egress-artifacts'; example.com is in no egress rule of 'build' (403 egress_denied)");
    }

    private static async Task McpTourAsync(Uri agentUri, string explorer, string builder)
    {
        await using var exploring = await McpClientAsync(agentUri, explorer);
        var tools = await exploring.ListToolsAsync();
        var (listDecision, listRule) = FindInAudit("\"method\":\"tools/list\"");
        Row("exploration", "MCP tools/list", "ok", listDecision, string.Join(",", tools.Select(t => t.Name)));
        await CallAsync(exploring, "exploration", "search_docs", new() { ["query"] = "deploy" });
        await CallAsync(exploring, "exploration", "deploy", new() { ["repo"] = "payments-service", ["env"] = "production" });

        await using var building = await McpClientAsync(agentUri, builder);
        await CallAsync(building, "build", "run_build", new() { ["repo"] = "payments-service" });
        await CallAsync(building, "build", "run_build", new() { ["repo"] = "infra" });
    }

    /// <summary>
    /// A whole agent session: the harness drives a scripted model (no API key needed) whose every tool
    /// call goes through the gateway: an allowed search, a refused build, and a deployment held for a
    /// human — the demo plays the operator and approves it.
    /// </summary>
    private static async Task HarnessTourAsync(Uri agentUri, Uri adminUri, string dataDir)
    {
        var script = Path.Combine(dataDir, "demo-model-script.json");
        Directory.CreateDirectory(dataDir);
        await File.WriteAllTextAsync(script, """
            { "turns": [
              { "text": "I'll read the deployment docs first.", "tool_calls": [ { "tool": "search_docs", "arguments": { "query": "deploy" } } ] },
              { "text": "Let me build the service before deploying.", "tool_calls": [ { "tool": "run_build", "arguments": { "repo": "payments-service" } } ] },
              { "text": "Builds are not mine to run; deploying the last good build to staging.", "tool_calls": [ { "tool": "deploy", "arguments": { "repo": "payments-service", "env": "staging" } } ] },
              { "text": "payments-service is rolling out to staging; the build step was refused by the perimeter, as production sessions may only deploy." }
            ] }
            """);
        // Claude when an Anthropic key is given (ANTHROPIC_API_KEY, optionally ANTHROPIC_BASE_URL and
        // ANTHROPIC_MODEL), else the scripted model: the session goes through the same perimeter either way.
        var apiKey = Environment.GetEnvironmentVariable("ANTHROPIC_API_KEY");
        var claude = !string.IsNullOrEmpty(apiKey);
        var options = new AgentPerimeter.Harness.HarnessOptions
        {
            Gateway = agentUri,
            Admin = adminUri,
            Agent = _releaseAgent,
            WorkType = "production",
            Task = "Ship payments-service to staging: read the deployment docs first, then deploy it to staging. " +
                   "Builds may be refused to you; if a tool is refused, say so and carry on with what you may do.",
            ScriptFile = claude ? null : script,
            AnthropicApiKey = apiKey,
            AnthropicBaseUrl = Environment.GetEnvironmentVariable("ANTHROPIC_BASE_URL"),
            Model = Environment.GetEnvironmentVariable("ANTHROPIC_MODEL") is { Length: > 0 } model ? model : "claude-sonnet-4-5",
            Budgets = new AgentPerimeter.Harness.Budgets { MaxTurns = 8, MaxOutputTokens = 8_000 },
            JournalDirectory = Path.Combine(dataDir, "sessions"),
            ConsoleLogs = false,
        };
        Console.Out.WriteLine();
        Console.Out.WriteLine(claude
            ? $"Harness session (Claude {options.Model} → harness → gateway → MCP server), agent release-bot, work type production:"
            : "Harness session (scripted model → harness → gateway → MCP server; set ANTHROPIC_API_KEY for Claude), agent release-bot, work type production:");
        using var admin = new HttpClient { BaseAddress = adminUri };
        using var operatorDone = new CancellationTokenSource();
        // The demo plays the human operator: it approves the deployment the session is waiting for.
        var approver = Task.Run(async () =>
        {
            while (!operatorDone.IsCancellationRequested)
            {
                var approvals = await admin.GetFromJsonAsync(PerimeterPaths.AdminApprovals, ProtocolJsonContext.Default.ListApprovalRecord, operatorDone.Token) ?? [];
                foreach (var a in approvals.Where(a => a.Status == ApprovalStates.Pending))
                {
                    Console.Out.WriteLine($"  operator: perimeter approvals approve {a.Id}   ({a.What} {a.Arguments})");
                    (await admin.PostAsync(PerimeterPaths.Decide(a.Id, approve: true), null, operatorDone.Token)).EnsureSuccessStatusCode();
                }
                await Task.Delay(100, operatorDone.Token);
            }
        });
        var result = await AgentPerimeter.Harness.HarnessApp.RunSessionAsync(options, null, CancellationToken.None);
        await operatorDone.CancelAsync();
        try { await approver; } catch (OperationCanceledException) { }

        var journal = AgentPerimeter.Harness.Journal.PathFor(options.JournalDirectory, result.SessionId);
        foreach (var e in AgentPerimeter.Harness.Journal.Read(journal))
        {
            switch ((string?)e["type"])
            {
                case "model_turn":
                    Console.Out.WriteLine($"  model turn {(int?)e["turn"]}: {Truncate((string?)e["text"] ?? "", 100)}");
                    break;
                case "approval_pending":
                    Console.Out.WriteLine($"  harness paused: {(string?)e["call_id"]} waits for approval {(string?)e["approval_id"]}");
                    break;
                case "tool_outcome":
                    Console.Out.WriteLine($"  tool {(string?)e["tool"],-12} → {(string?)e["outcome"],-7} {(string?)e["code"],-22} {Truncate(((string?)e["text"] ?? "").ReplaceLineEndings(" "), 70)}");
                    break;
            }
        }
        Console.Out.WriteLine($"  session {result.SessionId} stopped: {result.Reason} ({result.Turns} turns; journal {journal})");
    }

    private static async Task<McpClient> McpClientAsync(Uri agentUri, string token) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(agentUri, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
        }));

    private static async Task CallAsync(McpClient client, string label, string tool, Dictionary<string, object?> arguments)
    {
        string outcome;
        try
        {
            var result = await client.CallToolAsync(tool, arguments);
            outcome = result.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().FirstOrDefault()?.Text ?? "";
        }
        catch (ModelContextProtocol.McpProtocolException ex)
        {
            outcome = ex.Message;
        }
        var (decision, rule) = FindInAudit($"\"target\":\"{tool}\"");
        var args = string.Join(",", arguments.Select(a => $"{a.Key}={a.Value}"));
        Row(label, Truncate($"MCP {tool}({args})", 38), "ok", decision, rule, Truncate(outcome, 60));
    }

    private static void Row(string label, string action, string status, string decision, string detail, string? tail = null) =>
        Console.Out.WriteLine($"{label,-15} {action,-38} {status,6}  {decision,-16} {Truncate(detail, 28),-28} {tail}");

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";

    internal static (double Governed, double Total) GovernedCounts(string metrics)
    {
        double governed = 0, total = 0;
        foreach (Match m in ActionsLine().Matches(metrics))
        {
            var value = double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
            total += value;
            if (m.Groups["labels"].Value.Contains("governed=\"true\"", StringComparison.Ordinal))
                governed += value;
        }
        return (governed, total);
    }

    [GeneratedRegex(@"^agentperimeter_actions_total\{(?<labels>[^}]*)\} (?<value>[0-9.eE+]+)$", RegexOptions.Multiline)]
    private static partial Regex ActionsLine();
}
