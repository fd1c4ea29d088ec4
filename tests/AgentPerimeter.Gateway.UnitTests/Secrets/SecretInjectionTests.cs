using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.UnitTests.Secrets;

/// <summary>Secret settings are validated at startup (injection at a running gateway is a functional test).</summary>
public class SecretInjectionTests
{
    [Fact]
    public void MissingSecret_AtStartup_IsAConfigurationError_NamingSecretAndSource()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-secret-cfg-").FullName;
        var policy = """
            { "Perimeter": {
                "Secrets": {
                  "github-token": { "Source": { "Kind": "env", "Name": "PERIMETER_TEST_NOT_SET_ANYWHERE" }, "Bindings": [ { "Route": "api", "Inject": "bearer" } ] },
                  "vault-thing": { "Source": { "Kind": "file", "Path": "nope/missing-file" }, "Bindings": [ { "Route": "api", "Inject": "header" } ] }
                },
                "WorkTypes": { "build": { "Secrets": [ "github-token", "ghost" ], "Rules": [ { "Id": "r", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] } ] } } } }
            """;
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", policy);

        var ex = Assert.Throws<ConfigurationValidationException>(() => PerimeterApp.Build(args));

        Assert.Contains(ex.Errors, e => e.Contains("secret 'github-token' (source env 'PERIMETER_TEST_NOT_SET_ANYWHERE') is missing"));
        Assert.Contains(ex.Errors, e => e.Contains("secret 'vault-thing' (source file '") && e.Contains("missing-file') is missing"));
        Assert.Contains(ex.Errors, e => e.Contains("a header binding needs the header name"));
        Assert.Contains(ex.Errors, e => e.Contains("secret 'ghost' is not declared"));
    }
}
