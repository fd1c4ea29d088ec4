using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Secrets;

/// <summary>A leaky upstream behind a gateway with one secret per injection kind.</summary>
public sealed class SecretSetup : IAsyncDisposable
{
    public required TestUpstream Upstream { get; init; }
    public required TestGateway Gateway { get; init; }
    public required string ApiKey { get; init; }
    public required string BearerToken { get; init; }
    public required string BasicPassword { get; init; }
    public required string QueryKey { get; init; }
    public required string BearerFile { get; init; }
    public required string ApiKeyVariable { get; init; }

    public static async Task<SecretSetup> StartAsync(params string[] extraArgs)
    {
        var upstream = await TestUpstream.StartAsync();
        var id = Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var apiKey = TestSecrets.New("apikey");
        var bearer = TestSecrets.New("bearer");
        var basic = TestSecrets.New("basic");
        var query = TestSecrets.New("query");
        var apiKeyVar = $"PERIMETER_TEST_API_KEY_{id}";
        Environment.SetEnvironmentVariable(apiKeyVar, apiKey);
        Environment.SetEnvironmentVariable($"PERIMETER_TEST_BASIC_{id}", basic);
        Environment.SetEnvironmentVariable($"PERIMETER_TEST_QUERY_{id}", query);
        var secretsDir = Directory.CreateTempSubdirectory("perimeter-secret-files-").FullName;
        var bearerFile = Path.Combine(secretsDir, "bearer-token");
        File.WriteAllText(bearerFile, bearer + "\n");

        var routes = $$"""
            {
              "ReverseProxy": {
                "Routes": {
                  "api": { "ClusterId": "up", "Match": { "Path": "/api/{**rest}" } },
                  "bearer": { "ClusterId": "up", "Match": { "Path": "/bearer/{**rest}" } },
                  "basic": { "ClusterId": "up", "Match": { "Path": "/basic/{**rest}" } },
                  "query": { "ClusterId": "up", "Match": { "Path": "/query/{**rest}" } },
                  "plain": { "ClusterId": "up", "Match": { "Path": "/plain/{**rest}" } }
                },
                "Clusters": { "up": { "Destinations": { "d1": { "Address": "{{upstream.Url}}/" } } } }
              }
            }
            """;
        var policy = $$"""
            {
              "Perimeter": {
                "StripHeaders": [ "X-Api-Key", "X-Auth-Token" ],
                "Secrets": {
                  "api-key": {
                    "Source": { "Kind": "env", "Name": "{{apiKeyVar}}" },
                    "Bindings": [ { "Route": "api", "Inject": "header", "Name": "X-Api-Key", "WhenNotEntitled": "forward" } ]
                  },
                  "bearer-token": {
                    "Source": { "Kind": "file", "Path": "{{bearerFile}}" },
                    "Bindings": [ { "Route": "bearer", "Inject": "bearer", "WhenNotEntitled": "refuse" } ]
                  },
                  "basic-pass": {
                    "Source": { "Kind": "env", "Name": "PERIMETER_TEST_BASIC_{{id}}" },
                    "Bindings": [ { "Route": "basic", "Inject": "basic", "Username": "svc" } ]
                  },
                  "query-key": {
                    "Source": { "Kind": "env", "Name": "PERIMETER_TEST_QUERY_{{id}}" },
                    "Bindings": [ { "Route": "query", "Inject": "query", "Name": "api_key" } ]
                  }
                },
                "WorkTypes": {
                  "build": {
                    "Secrets": [ "api-key", "bearer-token", "basic-pass", "query-key" ],
                    "Rules": [ { "Id": "build-all", "Route": "*", "Methods": [ "GET", "POST" ], "Paths": [ "/**" ] } ]
                  },
                  "exploration": {
                    "Rules": [ { "Id": "explore-all", "Route": "*", "Methods": [ "GET" ], "Paths": [ "/**" ] } ]
                  }
                }
              }
            }
            """;
        var gateway = await TestGateway.StartAsync(upstream.Url, policy, routes, extraArgs);
        return new SecretSetup
        {
            Upstream = upstream, Gateway = gateway, ApiKey = apiKey, BearerToken = bearer, BasicPassword = basic,
            QueryKey = query, BearerFile = bearerFile, ApiKeyVariable = apiKeyVar,
        };
    }

    public IEnumerable<string> Values => [ApiKey, BearerToken, BasicPassword, QueryKey];

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
