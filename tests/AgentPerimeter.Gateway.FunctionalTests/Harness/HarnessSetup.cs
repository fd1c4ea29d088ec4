using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Testing;
using AgentPerimeter.Harness;
using Microsoft.Extensions.AI;

namespace AgentPerimeter.Gateway.FunctionalTests.Harness;

/// <summary>A real gateway in front of a real SDK MCP server, and what a harness session needs to run against them.</summary>
public sealed class HarnessSetup : IAsyncDisposable
{
    public const string Policy = """
        {
          "Perimeter": {
            "WorkTypes": {
              "build": { "Rules": [ { "Id": "build-tools", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "search_docs", "read_file", "slow_job" ] } ] },
              "ship": { "Rules": [ { "Id": "ship-tools", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "search_docs", "deploy" ] } ] },
              "production": {
                "Rules": [
                  { "Id": "prod-read", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "search_docs" ] },
                  { "Id": "prod-deploy", "Route": "tools-mcp", "Methods": [ "POST" ], "Paths": [ "/mcp" ], "Tools": [ "deploy" ], "Approval": "required" }
                ]
              },
              "limited": {
                "RateLimits": { "Partition": "session", "Limits": [ { "Id": "one-search", "Route": "tools-mcp", "Tools": [ "search_docs" ], "Limit": 1, "Period": "00:00:02" } ] },
                "Rules": [ { "Id": "limited-search", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "search_docs" ] } ]
              }
            }
          }
        }
        """;

    private HarnessSetup(TestMcpServer server, TestGateway gateway, string dir)
    {
        Server = server;
        Gateway = gateway;
        Dir = dir;
    }

    public TestMcpServer Server { get; }
    public TestGateway Gateway { get; }
    public string Dir { get; }
    public string Journals => Path.Combine(Dir, "sessions");

    public static async Task<HarnessSetup> StartAsync(string? policy = null, params string[] extraArgs)
    {
        var server = await TestMcpServer.StartAsync();
        var gateway = await TestGateway.StartAsync(server.Url, policy ?? Policy, McpPolicies.Routes(server.Url), extraArgs: extraArgs);
        return new HarnessSetup(server, gateway, Directory.CreateTempSubdirectory("perimeter-harness-").FullName);
    }

    public HarnessOptions Options(string workType, string? script, Budgets? budgets = null) => new()
    {
        Gateway = Gateway.AgentUri,
        Admin = Gateway.AdminUri,
        WorkType = workType,
        Task = "Do the task through the perimeter.",
        ScriptFile = script,
        Agent = "harness-test",
        JournalDirectory = Journals,
        Budgets = budgets ?? new Budgets(),
        ApprovalWait = TimeSpan.FromSeconds(30),
    };

    /// <summary>Writes a scripted model: each turn is (text, calls) with calls as (tool, arguments).</summary>
    public string Script(params (string Text, (string Tool, object Arguments)[] Calls)[] turns)
    {
        var path = Path.Combine(Dir, $"script-{Guid.NewGuid():N}.json");
        var json = new JsonObject
        {
            ["turns"] = new JsonArray([.. turns.Select(t => (JsonNode)new JsonObject
            {
                ["text"] = t.Text,
                ["tool_calls"] = new JsonArray([.. t.Calls.Select(c => (JsonNode)new JsonObject
                {
                    ["tool"] = c.Tool,
                    ["arguments"] = JsonNode.Parse(JsonSerializer.Serialize(c.Arguments)),
                })]),
            })]),
        };
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    public List<JsonObject> Journal(string sessionId) => AgentPerimeter.Harness.Journal.Read(AgentPerimeter.Harness.Journal.PathFor(Journals, sessionId));

    public int CallsOf(string tool) => Server.ToolCalls.Count(c => c == "tools/call:" + tool);

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Server.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Wraps a model and keeps every conversation it was sent, to assert what the model saw.</summary>
public sealed class RecordingChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public List<List<ChatMessage>> Requests { get; } = [];

    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var copy = messages.ToList();
        lock (Requests)
            Requests.Add(copy);
        return base.GetResponseAsync(copy, options, cancellationToken);
    }

    /// <summary>Every tool result text the model was shown.</summary>
    public IEnumerable<string> ToolResults => Requests.Last().SelectMany(m => m.Contents).OfType<FunctionResultContent>().Select(r => r.Result?.ToString() ?? "");
}
