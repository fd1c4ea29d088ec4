using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.UnitTests.Tunnels;

public class TunnelConfigurationTests
{
    private static ConfigurationValidationException Invalid(string upstream, params string[] extraArgs)
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-cfg-").FullName;
        try
        {
            var args = TestGateway.PrepareConfig(dir, upstream, TestPolicies.Tunnel, null, extraArgs);
            return Assert.Throws<ConfigurationValidationException>(() => PerimeterApp.Build(args));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ARouteNamingAnUndeclaredTunnel_IsAStartupError()
    {
        using var tunnels = new TunnelSetup("echo");
        var ex = Invalid("tunnel://ghost", tunnels.GatewayArgs());
        Assert.Contains(ex.Errors, e => e.Contains("tunnel 'ghost' is not declared in Gateway:Tunnels"));
    }

    [Fact]
    public void TunnelsWithoutAListener_BadNames_ShortOrMissingCredentials_AreStartupErrors()
    {
        using var tunnels = new TunnelSetup("echo");
        File.WriteAllText(tunnels.CredentialFile("echo"), "tiny-cred");
        var ex = Invalid("tunnel://echo",
            "--Gateway:Tunnels:echo:Credential:Kind=file", $"--Gateway:Tunnels:echo:Credential:Path={tunnels.CredentialFile("echo")}",
            "--Gateway:Tunnels:Bad_Name:Credential:Kind=file", "--Gateway:Tunnels:Bad_Name:Credential:Path=x",
            "--Gateway:Tunnels:gone:Credential:Kind=file", "--Gateway:Tunnels:gone:Credential:Path=/nonexistent/credential",
            "--Gateway:Tunnels:nowhere:Credential:Kind=vault");
        Assert.Contains(ex.Errors, e => e.Contains("Gateway:Listeners:Tunnel: tunnels are declared"));
        Assert.Contains(ex.Errors, e => e.Contains("credential of tunnel 'echo' is shorter than 16 characters"));
        Assert.Contains(ex.Errors, e => e.Contains("'Bad_Name' must be a DNS label"));
        Assert.Contains(ex.Errors, e => e.Contains("the credential of tunnel 'gone'") && e.Contains("does not exist"));
        Assert.Contains(ex.Errors, e => e.Contains("tunnel 'nowhere' needs its connectors' credential from a secret source"));
        Assert.DoesNotContain(ex.Errors, e => e.Contains("tiny-cred")); // never the value
    }

    [Fact]
    public void AnInboundListener_NeedsHttps_ACertificate_ACa_ADomain_AndServers()
    {
        var ex = Invalid("http://127.0.0.1:1", "--Gateway:Listeners:Inbound=http://127.0.0.1:0", "--Gateway:Inbound:Servers:0=Not A Label");
        Assert.Contains(ex.Errors, e => e.Contains("the inbound listener terminates mutual TLS, so it must be https"));
        Assert.Contains(ex.Errors, e => e.Contains("Gateway:Inbound:ClientCertificateAuthority: name the PEM file"));
        Assert.Contains(ex.Errors, e => e.Contains("Gateway:Inbound:Domain: set the tunnel domain"));
        Assert.Contains(ex.Errors, e => e.Contains("'Not A Label' is not a DNS label"));

        var https = Invalid("http://127.0.0.1:1", "--Gateway:Listeners:Inbound=https://127.0.0.1:0",
            "--Gateway:Inbound:ClientCertificateAuthority=/nonexistent/ca.pem", "--Gateway:Inbound:Domain=mcp.test", "--Gateway:Inbound:Servers:0=crm");
        Assert.Contains(https.Errors, e => e.Contains("set Gateway:Tls:Certificate and Gateway:Tls:Key"));
        Assert.Contains(https.Errors, e => e.Contains("/nonexistent/ca.pem' cannot be read"));
    }

    [Fact]
    public void ACleartextTunnelListener_IsAcceptedOnLoopbackOnly()
    {
        using var tunnels = new TunnelSetup("echo");
        var ex = Invalid("tunnel://echo", tunnels.GatewayArgs("http://0.0.0.0:0"));
        Assert.Contains(ex.Errors, e => e.Contains("would carry connector credentials and private traffic in clear text"));
    }
}
