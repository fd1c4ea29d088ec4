using System.Text.Json;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Mcp;

/// <summary>
/// The official MCP conformance suite (npm <c>@modelcontextprotocol/conformance</c>), unchanged, run as
/// the client of a server built with the official TypeScript SDK — once directly and once through the
/// gateway, as an agent holding a session token. Every check that passes directly must pass through
/// the gateway: the perimeter inspects, filters and records, and breaks nothing of the protocol.
/// </summary>
public sealed class McpConformanceTests
{
    private static string NodeDir() => Path.Combine(TestPaths.RepoRoot(), "tests", "AgentPerimeter.Gateway.FunctionalTests", "Mcp", "node");

    private static string Routes(string serverUrl) => $$"""
        {
          "ReverseProxy": {
            "Routes": { "conformance-mcp": { "ClusterId": "c", "Match": { "Path": "/mcp" }, "Metadata": { "Perimeter.Mcp": "true" } } },
            "Clusters": { "c": { "Destinations": { "d1": { "Address": "{{serverUrl}}" } } } }
          }
        }
        """;

    private const string Policy = """
        {
          "Perimeter": {
            "WorkTypes": {
              "build": { "Rules": [ { "Id": "conformance", "Route": "conformance-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ],
                                      "Tools": [ "*" ], "Resources": [ "test://**" ], "Prompts": [ "*" ] } ] }
            }
          }
        }
        """;

    [Fact]
    public async Task TheOfficialSuite_PassesThroughTheGateway_EveryCheckThatPassesDirectly()
    {
        var dir = NodeDir();
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "@modelcontextprotocol", "conformance")),
            "the MCP conformance suite is not installed: run tests/run.sh (it runs 'npm ci' in " + dir + ")");
        using var server = ChildProcess.StartExecutable("node", [Path.Combine(dir, "conformance-server.mjs")], dir);
        await server.WaitForOutputAsync("LISTENING ", TimeSpan.FromSeconds(30));
        var serverMcp = new Uri(server.Output.Split('\n').First(l => l.StartsWith("LISTENING ", StringComparison.Ordinal))["LISTENING ".Length..].Trim());
        // The gateway's own origin is listed (Gateway:AllowedOrigins), as for any gateway a browser may
        // reach: the suite's DNS-rebinding scenario then gets 403 for a foreign Origin and 2xx for this one.
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }
        await using var gateway = await TestGateway.StartAsync(serverMcp.GetLeftPart(UriPartial.Authority) + "/",
            Policy, Routes(serverMcp.GetLeftPart(UriPartial.Authority) + "/"),
            [$"--Gateway:Listeners:Agent=http://127.0.0.1:{port}", $"--Gateway:AllowedOrigins:0=http://127.0.0.1:{port}"]);
        var token = await gateway.TokenAsync("conformance-agent", "build");

        var direct = await RunSuiteAsync(dir, serverMcp, token: null);
        var throughGateway = await RunSuiteAsync(dir, new Uri(gateway.AgentUri, "mcp"), token);

        // The suite really ran (dozens of checks), directly and through the gateway.
        Assert.True(direct.Count >= 40, $"only {direct.Count} checks ran directly");
        var failedThrough = direct.Where(d => d.Value == "SUCCESS" && throughGateway.GetValueOrDefault(d.Key) != "SUCCESS")
            .Select(d => $"{d.Key}: {throughGateway.GetValueOrDefault(d.Key) ?? "missing"}").ToList();
        Assert.True(failedThrough.Count == 0, "checks that pass directly but not through the gateway:\n" + string.Join("\n", failedThrough));
        // And the traffic was the gateway's to decide: every call is an audited action.
        Assert.Contains(gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("method", out var method)
            && method.GetString() == "tools/call" && r.GetProperty("decision").GetString() == "allow");
    }

    /// <summary>Runs the suite's active server scenarios against <paramref name="url"/>; returns scenario/check → status.</summary>
    private static async Task<Dictionary<string, string>> RunSuiteAsync(string dir, Uri url, string? token)
    {
        var work = Directory.CreateTempSubdirectory("conformance-").FullName;
        try
        {
            var cli = Path.Combine(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
            using var run = ChildProcess.StartExecutable("node", ["--import", Path.Combine(dir, "conformance-shim.mjs"), cli, "server", "--url", url.ToString(), "--suite", "all", "-o", "results"],
                work, token is null ? [] : [("MCP_BEARER_TOKEN", token)]);
            await run.WaitForExitAsync(TimeSpan.FromMinutes(4));
            var results = new Dictionary<string, string>();
            var resultsDir = Path.Combine(work, "results");
            Assert.True(Directory.Exists(resultsDir), "the conformance suite wrote no results:\n" + run.Output);
            foreach (var file in Directory.EnumerateFiles(resultsDir, "checks.json", SearchOption.AllDirectories))
            {
                // results/server-<scenario>-<ISO time with '-' for ':' and '.'>/checks.json
                var folder = Path.GetFileName(Path.GetDirectoryName(file)!);
                var scenario = System.Text.RegularExpressions.Regex.Replace(folder, @"^server-|-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "");
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                foreach (var check in doc.RootElement.EnumerateArray())
                {
                    var status = check.GetProperty("status").GetString()!;
                    if (status is "INFO")
                        continue;
                    var key = $"{scenario}/{check.GetProperty("id").GetString()}";
                    // A check id can repeat within a scenario: the worst status stands.
                    results[key] = results.TryGetValue(key, out var earlier) && earlier != "SUCCESS" ? earlier : status;
                }
            }
            return results;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
