using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Testing;
using Microsoft.Extensions.Configuration;

namespace AgentPerimeter.Gateway.UnitTests.Policy;

public class PolicyLoaderTests
{
    internal static IConfiguration Load(string json)
    {
        var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        return new ConfigurationBuilder().AddJsonStream(stream).Build();
    }

    private static readonly HashSet<string> Routes = ["api", "other"];

    [Fact]
    public void InvalidPolicy_ReportsEveryErrorTogether_WithHowToFix()
    {
        var result = PolicyLoader.Load(Load("""
            {
              "Perimeter": {
                "WorkTypes": {
                  "build": {
                    "Rulez": [],
                    "Rules": [
                      { "Id": "r1", "Route": "nope", "Methods": [ "GET" ], "Paths": [ "/api/**" ] },
                      { "Id": "r1", "Route": "api", "Methods": [ "get" ], "Paths": [ "api/x" ], "Mode": "audit" },
                      { "Route": "api", "Paths": [ "/api/../x" ], "Extra": true }
                    ]
                  },
                  "Bad Name": { "Rules": [] }
                }
              }
            }
            """), Routes);

        Assert.False(result.IsValid);
        Assert.Null(result.Policy);
        var errors = string.Join("\n", result.Errors);
        Assert.Contains("unknown key 'Rulez'", errors);
        Assert.Contains("route 'nope' is not defined", errors);
        Assert.Contains("rule id 'r1' is used twice", errors);
        Assert.Contains("'get' is not an HTTP method", errors);
        Assert.Contains("must start with '/'", errors);
        Assert.Contains("'audit' is not a mode", errors);
        Assert.Contains("every rule needs an Id", errors);
        Assert.Contains("list the HTTP methods", errors);
        Assert.Contains("'.' or '..' segments", errors);
        Assert.Contains("unknown key 'Extra'", errors);
        Assert.Contains("work type name 'Bad Name' is invalid", errors);
        Assert.True(result.Errors.Count >= 11, errors);
    }

    [Fact]
    public void McpRules_OnARouteThatIsNotMcp_AreRejected()
    {
        var result = PolicyLoader.Load(Load("""
            {
              "ReverseProxy": { "Routes": { "api": { "ClusterId": "c", "Match": { "Path": "/api" } },
                                            "mcp": { "ClusterId": "c", "Match": { "Path": "/mcp" }, "Metadata": { "Perimeter.Mcp": "true" } } } },
              "Perimeter": { "WorkTypes": { "build": { "Rules": [
                { "Id": "a", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api" ], "Tools": [ "deploy" ] },
                { "Id": "b", "Route": "mcp", "Methods": [ "POST" ], "Paths": [ "/mcp" ], "Tools": [ "deploy" ], "Arguments": { "env": { } } },
                { "Id": "c", "Route": "mcp", "Methods": [ "POST" ], "Paths": [ "/mcp" ], "Arguments": { "env": { "OneOf": [ "staging" ] } } }
              ] } } }
            }
            """), new HashSet<string> { "api", "mcp" });

        var errors = string.Join("\n", result.Errors);
        Assert.Contains("Rules:0: Tools, Resources and Prompts need an MCP route, and 'api' is not one", errors);
        Assert.Contains("Rules:1:Arguments:env: give the argument a constraint", errors);
        Assert.Contains("Rules:2:Arguments: argument constraints apply to the rule's Tools", errors);
        Assert.Equal(3, result.Errors.Count);
    }

    [Fact]
    public void ParamHeaders_NeedTools_AndPlainHeaderNameSuffixes()
    {
        var result = PolicyLoader.Load(Load("""
            {
              "ReverseProxy": { "Routes": { "mcp": { "ClusterId": "c", "Match": { "Path": "/mcp" }, "Metadata": { "Perimeter.Mcp": "true" } } } },
              "Perimeter": { "WorkTypes": { "build": { "Rules": [
                { "Id": "a", "Route": "mcp", "Methods": [ "POST" ], "Paths": [ "/mcp" ], "ParamHeaders": [ "Region" ] },
                { "Id": "b", "Route": "mcp", "Methods": [ "POST" ], "Paths": [ "/mcp" ], "Tools": [ "*" ], "ParamHeaders": [ "Mcp-Param-Region: x" ] },
                { "Id": "c", "Route": "mcp", "Methods": [ "POST" ], "Paths": [ "/mcp" ], "Tools": [ "*" ], "ParamHeaders": [ "Region", "tenant_id" ] }
              ] } } }
            }
            """), new HashSet<string> { "mcp" });

        var errors = string.Join("\n", result.Errors);
        Assert.Contains("Rules:0:ParamHeaders: Mcp-Param headers carry tool arguments; list the tools", errors);
        Assert.Contains("Rules:1:ParamHeaders: 'Mcp-Param-Region: x' is not a header name suffix", errors);
        Assert.Equal(2, result.Errors.Count);
    }

    [Fact]
    public void ShippedPolicy_IsValid_AgainstShippedRoutes()
    {
        var root = TestPaths.RepoRoot();
        var config = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(root, "config", "routes.json"))
            .AddJsonFile(Path.Combine(root, "config", "perimeter.json"))
            .Build();
        var result = PolicyLoader.Load(config, PolicyStore.KnownRoutes(config), AgentPerimeter.Gateway.Hosting.ConfigurationValidator.PolicySections(
            AgentPerimeter.Gateway.Secrets.SecretLoadContext.Default with { BaseDirectory = Path.Combine(root, "config") }));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(["build", "exploration", "production", "sensitive-data"], result.Policy!.WorkTypes.Keys.Order());
    }

    [Fact]
    public void Decide_DenyByDefault_EnforceBeatsReport()
    {
        var policy = PolicyLoader.Load(Load("""
            { "Perimeter": { "WorkTypes": { "build": { "Rules": [
                { "Id": "shadow", "Route": "api", "Methods": [ "*" ], "Paths": [ "/api/**" ], "Mode": "report" },
                { "Id": "read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/repos/*" ] }
            ] } } } }
            """), Routes).Policy!;

        Assert.Equal(DecisionOutcome.Allow, policy.Decide("build", "api", "GET", "/api/repos/x").Outcome);
        Assert.Equal("read", policy.Decide("build", "api", "GET", "/api/repos/x").RuleId);
        Assert.Equal(DecisionOutcome.WouldDeny, policy.Decide("build", "api", "DELETE", "/api/repos/x").Outcome);
        Assert.Equal(DecisionOutcome.Deny, policy.Decide("build", "other", "GET", "/other/x").Outcome);
        Assert.Equal("unknown_work_type", policy.Decide("ghost", "api", "GET", "/api/repos/x").Code);
    }
}
