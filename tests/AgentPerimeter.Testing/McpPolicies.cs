namespace AgentPerimeter.Testing;

/// <summary>Routes and policy for the MCP tests: route "tools-mcp" is inspected, "raw-mcp" is not.</summary>
public static class McpPolicies
{
    public static string Routes(string mcpServerUrl) => $$"""
        {
          "ReverseProxy": {
            "Routes": {
              "tools-mcp": { "ClusterId": "mcp", "Match": { "Path": "/mcp" }, "Metadata": { "Perimeter.Mcp": "true" } },
              "api": { "ClusterId": "mcp", "Match": { "Path": "/api/{**rest}" } }
            },
            "Clusters": {
              "mcp": { "Destinations": { "d1": { "Address": "{{mcpServerUrl.TrimEnd('/')}}/" } } }
            }
          }
        }
        """;

    public const string Policy = """
        {
          "Perimeter": {
            "WorkTypes": {
              "exploration": {
                "Rules": [
                  { "Id": "explore-search", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "search_*" ], "Resources": [ "docs://public/**" ], "Prompts": [ "summarize" ] },
                  { "Id": "explore-read", "Route": "tools-mcp", "Methods": [ "POST" ], "Paths": [ "/mcp" ], "Tools": [ "read_file", "slow_job" ], "Arguments": { "path": { "Glob": "/workspace/**" } } }
                ]
              },
              "production": {
                "Rules": [
                  { "Id": "prod-deploy", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "deploy", "search_docs" ], "Arguments": { "env": { "OneOf": [ "staging" ] } } }
                ]
              },
              "build": {
                "Rules": [
                  { "Id": "build-everything", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "*" ] }
                ]
              }
            }
          }
        }
        """;
}
