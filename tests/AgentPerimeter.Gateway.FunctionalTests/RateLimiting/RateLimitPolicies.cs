namespace AgentPerimeter.Gateway.FunctionalTests.RateLimiting;

public static class RateLimitPolicies
{
    /// <summary>build: 3/min per session, fails closed; exploration: per agent, 2/min on route "other", fails open.</summary>
    public static string Policy(int buildLimit = 3, string period = "00:01:00") => $$"""
        {
          "Perimeter": {
            "WorkTypes": {
              "build": {
                "RateLimits": { "Partition": "session", "FailureMode": "closed", "Limits": [ { "Id": "build-rate", "Limit": {{buildLimit}}, "Period": "{{period}}" } ] },
                "Rules": [ { "Id": "build-read", "Route": "*", "Methods": [ "GET" ], "Paths": [ "/api/**", "/other/**" ] } ]
              },
              "exploration": {
                "RateLimits": { "Partition": "agent", "FailureMode": "open", "Limits": [ { "Id": "explore-other", "Route": "other", "Limit": 2, "Period": "00:01:00" } ] },
                "Rules": [ { "Id": "explore-read", "Route": "*", "Methods": [ "GET" ], "Paths": [ "/api/public/**", "/other/**" ] } ]
              }
            }
          }
        }
        """;
}
