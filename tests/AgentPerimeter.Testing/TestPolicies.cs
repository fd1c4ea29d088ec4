namespace AgentPerimeter.Testing;

/// <summary>Policies and routes the functional tests run against.</summary>
public static class TestPolicies
{
    public static string Routes(string upstreamUrl) => $$"""
        {
          "ReverseProxy": {
            "Routes": {
              "api": { "ClusterId": "up", "Match": { "Path": "/api/{**rest}" } },
              "other": { "ClusterId": "up", "Match": { "Path": "/other/{**rest}" } }
            },
            "Clusters": {
              "up": { "Destinations": { "d1": { "Address": "{{upstreamUrl.TrimEnd('/')}}/" } } }
            }
          }
        }
        """;

    public const string Default = """
        {
          "Perimeter": {
            "WorkTypes": {
              "build": {
                "Rules": [
                  { "Id": "build-read", "Route": "api", "Methods": [ "GET", "HEAD" ], "Paths": [ "/api/repos", "/api/repos/**", "/api/status/*", "/api/echo/**" ] },
                  { "Id": "build-start", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/builds" ] },
                  { "Id": "build-shadow", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/shadow/**" ], "Mode": "report" }
                ]
              },
              "exploration": {
                "Rules": [
                  { "Id": "explore-public", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/public/**" ] }
                ]
              },
              "sensitive-data": {
                "Agents": [ "data-*" ],
                "Rules": [
                  { "Id": "sensitive-read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/customers/*" ] }
                ]
              },
              "production": {
                "Rules": [
                  { "Id": "production-deploy", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/deployments" ] }
                ]
              }
            }
          }
        }
        """;

    /// <summary>The tunnel tests' policy: work type "build" may GET and POST /api/echo/** on route "api".</summary>
    public const string Tunnel = """
        {
          "Perimeter": {
            "WorkTypes": {
              "build": {
                "Rules": [
                  { "Id": "tunnel-read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/echo/**" ] },
                  { "Id": "tunnel-upload", "Route": "api", "Methods": [ "POST" ], "Paths": [ "/api/echo/**" ] }
                ]
              }
            }
          }
        }
        """;
}
