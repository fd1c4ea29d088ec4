using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.UnitTests.Hosting;

public class ConfigurationTests
{
    private const string BrokenPolicy = """
        {
          "Perimeter": {
            "WorkTypes": {
              "build": {
                "Rules": [
                  { "Id": "a", "Route": "missing-route", "Methods": [ "GET" ], "Paths": [ "/api/**" ] },
                  { "Id": "b", "Route": "api", "Methods": [ "FETCH" ], "Paths": [ "/api/**" ], "Mode": "shadow" }
                ],
                "Limits": {}
              }
            }
          }
        }
        """;

    [Fact]
    public void InvalidPolicy_GatewayRefusesToStart_ListingEveryError()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-cfg-").FullName;
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", BrokenPolicy, null, "--Gateway:Identity:Isuer=typo");

        var ex = Assert.Throws<ConfigurationValidationException>(() => PerimeterApp.Build(args));

        Assert.Contains(ex.Errors, e => e.Contains("route 'missing-route' is not defined"));
        Assert.Contains(ex.Errors, e => e.Contains("'FETCH' is not an HTTP method"));
        Assert.Contains(ex.Errors, e => e.Contains("'shadow' is not a mode"));
        Assert.Contains(ex.Errors, e => e.Contains("unknown key 'Limits'"));
        Assert.Contains(ex.Errors, e => e.Contains("Gateway:Identity:Isuer: unknown key"));
        Assert.Equal(5, ex.Errors.Count);
    }

    [Fact]
    public void InvalidGatewaySettings_AreReportedWithHowToFix()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-cfg-").FullName;
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", null, null,
            "--Gateway:Listeners:Agent=ftp://example", "--Gateway:Identity:ClockSkew=soon", "--Gateway:Logging:MinimumLevel=Loud");

        var ex = Assert.Throws<ConfigurationValidationException>(() => PerimeterApp.Build(args));

        Assert.Contains(ex.Errors, e => e.Contains("Durations are written like"));
        Assert.True(ex.Errors.Count >= 1, ex.Message);
    }

    [Fact]
    public void HalfWrittenOAuthClients_AreEachAnErrorNamingTheClient()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-cfg-").FullName;
        File.WriteAllText(Path.Combine(dir, "short-secret"), "short\n");
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", null, null,
            "--Gateway:OAuth:PublicUrl=https://perimeter.example.com/mcp",
            "--Gateway:OAuth:Clients:no-way-in:WorkTypes:0=exploration",
            "--Gateway:OAuth:Clients:no-work:Secret:Kind=env", "--Gateway:OAuth:Clients:no-work:Secret:Name=PERIMETER_TEST_UNSET_VARIABLE",
            "--Gateway:OAuth:Clients:short:WorkTypes:0=exploration", "--Gateway:OAuth:Clients:short:Secret:Kind=file", $"--Gateway:OAuth:Clients:short:Secret:Path={Path.Combine(dir, "short-secret")}",
            "--Gateway:OAuth:Clients:bad-key:WorkTypes:0=nonexistent", $"--Gateway:OAuth:Clients:bad-key:PublicKeyPath={Path.Combine(dir, "short-secret")}",
            "--Gateway:OAuth:Clients:typo:WorkTypes:0=exploration", "--Gateway:OAuth:Clients:typo:Secrett:Kind=file");

        var ex = Assert.Throws<ConfigurationValidationException>(() => PerimeterApp.Build(args));

        Assert.Contains(ex.Errors, e => e.StartsWith("Gateway:OAuth:PublicUrl:") && e.Contains("scheme and host only"));
        Assert.Contains(ex.Errors, e => e.Contains("client 'no-way-in' needs a way to authenticate"));
        Assert.Contains(ex.Errors, e => e.Contains("no-work:WorkTypes: list the work types"));
        Assert.Contains(ex.Errors, e => e.Contains("the secret of client 'no-work'") && e.Contains("is missing"));
        Assert.Contains(ex.Errors, e => e.Contains("the secret of client 'short' is shorter than 16 characters"));
        Assert.Contains(ex.Errors, e => e.Contains("bad-key:PublicKeyPath: client 'bad-key'") && e.Contains("not a PEM RSA or EC public key"));
        Assert.Contains(ex.Errors, e => e.Contains("work type 'nonexistent' is not defined in Perimeter:WorkTypes"));
        Assert.Contains(ex.Errors, e => e.Contains("typo") && e.Contains("Secrett"));
        Assert.DoesNotContain(ex.Errors, e => e.Contains("short\n") || e.Contains("'short'\n"));
    }

    [Fact]
    public void OAuthClients_WithNeitherPublicUrlNorAllowedHosts_AreAnError()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-cfg-").FullName;
        File.WriteAllText(Path.Combine(dir, "client-secret"), "a-client-secret-long-enough\n");
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", null, null,
            "--Gateway:OAuth:Clients:ci:WorkTypes:0=exploration", "--Gateway:OAuth:Clients:ci:Secret:Kind=file",
            $"--Gateway:OAuth:Clients:ci:Secret:Path={Path.Combine(dir, "client-secret")}");

        var ex = Assert.Throws<ConfigurationValidationException>(() => PerimeterApp.Build(args));

        Assert.Contains(ex.Errors, e => e.StartsWith("Gateway:OAuth: with clients registered, set PublicUrl"));
        Assert.Single(ex.Errors);
        using var fine = PerimeterApp.Build([.. args, "--Gateway:AllowedHosts:0=perimeter.example.com"]);
    }

    [Fact]
    public void TwoRoutesOnTheSamePath_AreAConfigurationError()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-cfg-").FullName;
        var routes = TestPolicies.Routes("http://127.0.0.1:1").Replace("\"/other/{**rest}\"", "\"/api/{**rest}\"");
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", null, routes);

        var ex = Assert.Throws<ConfigurationValidationException>(() => PerimeterApp.Build(args));

        Assert.Contains(ex.Errors, e => e.Contains("routes 'api' and 'other' match the same requests"));
    }

    [Fact]
    public async Task CheckCommand_ValidatesLikeTheGateway()
    {
        var root = TestPaths.RepoRoot();
        Assert.Equal(0, await Cli.Cli.RunAsync(["check", Path.Combine(root, "config", "perimeter.json")]));

        var dir = Directory.CreateTempSubdirectory("perimeter-check-").FullName;
        TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", BrokenPolicy);
        Assert.Equal(1, await Cli.Cli.RunAsync(["check", Path.Combine(dir, "config", "perimeter.json")]));
    }
}
