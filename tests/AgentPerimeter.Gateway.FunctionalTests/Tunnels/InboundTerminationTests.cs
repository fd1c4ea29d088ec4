using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPerimeter.Gateway.FunctionalTests.Tunnels;

/// <summary>
/// Inbound tunnel termination: a mutual-TLS listener that accepts only client certificates of the
/// configured CA and routes by host name, with the same identity, policy and audit as the agent listener.
/// </summary>
public sealed class InboundTerminationTests : IAsyncLifetime
{
    private const string Routes = """
        {
          "ReverseProxy": {
            "Routes": {
              "api": { "ClusterId": "up", "Match": { "Path": "/api/{**rest}" } },
              "crm-api": { "ClusterId": "up", "Match": { "Path": "/api/{**rest}", "Hosts": [ "crm.mcp.test" ] } },
              "wild": { "ClusterId": "up", "Match": { "Path": "/wild/{**rest}", "Hosts": [ "*.mcp.test" ] } }
            },
            "Clusters": { "up": { "Destinations": { "d1": { "Address": "UPSTREAM" } } } }
          }
        }
        """;

    private const string Policy = """
        {
          "Perimeter": {
            "WorkTypes": {
              "build": {
                "Rules": [
                  { "Id": "api-read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] },
                  { "Id": "crm-read", "Route": "crm-api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] },
                  { "Id": "wild-read", "Route": "wild", "Methods": [ "GET" ], "Paths": [ "/wild/**" ] }
                ]
              }
            }
          }
        }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("perimeter-mtls-").FullName;
    private TestUpstream _upstream = null!;
    private TestGateway _gateway = null!;
    private X509Certificate2 _authority = null!;
    private X509Certificate2 _foreignAuthority = null!;

    public async Task InitializeAsync()
    {
        _authority = TestCertificates.CreateAuthority("Tunnel Origin CA");
        _foreignAuthority = TestCertificates.CreateAuthority("Someone Else's CA");
        var (server, serverKey) = TestCertificates.Issue(TestCertificates.CreateAuthority("Gateway Server CA"), "gateway", server: true, dnsNames: ["*.mcp.test", "localhost"]);
        var (serverCert, serverKeyPath) = TestCertificates.WritePem(_dir, "server", server, serverKey);
        var (caPath, _) = TestCertificates.WritePem(_dir, "client-ca", _authority);
        _upstream = await TestUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync(_upstream.Url, Policy, Routes.Replace("UPSTREAM", _upstream.Url.TrimEnd('/') + "/"),
        [
            "--Gateway:Listeners:Inbound=https://127.0.0.1:0",
            $"--Gateway:Tls:Certificate={serverCert}",
            $"--Gateway:Tls:Key={serverKeyPath}",
            $"--Gateway:Inbound:ClientCertificateAuthority={caPath}",
            "--Gateway:Inbound:Domain=mcp.test",
            "--Gateway:Inbound:Servers:0=crm",
        ]);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private Uri InboundUri => _gateway.App.Services.GetRequiredService<PerimeterListeners>().InboundUri!;

    private HttpClient Client(X509Certificate2? certificate) => new(new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
            // Present the certificate whatever the server's acceptable-issuer list says, as an impostor would.
            LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!,
            // The test checks the client side of mutual TLS; the server certificate is the test's own.
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        },
    })
    { BaseAddress = InboundUri };

    private static HttpRequestMessage Get(string host, string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    [Fact]
    public async Task GoodClientCertificate_IsRoutedByHostName_UnderTheSameIdentityPolicyAndAudit()
    {
        var (client, clientKey) = TestCertificates.Issue(_authority, "cloudflare-origin-pull", server: false);
        using var _ = clientKey;
        using var http = Client(client);
        var token = await _gateway.TokenAsync("agent-1", "build");

        var ok = await http.SendAsync(Get("crm.mcp.test", "/api/records/1", token));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var record = _gateway.AuditFor(ok);
        Assert.Equal("crm-api", record.GetProperty("route").GetString());
        Assert.Equal("crm-read", record.GetProperty("rule").GetString());
        Assert.Contains("CN=cloudflare-origin-pull", record.GetProperty("inbound_client").GetString());
        Assert.Equal("/api/records/1", Assert.Single(_upstream.Received).Path);

        // Same identity and policy as the agent listener: no token, no entry; not allowed, denied.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(Get("crm.mcp.test", "/api/records/1", null))).StatusCode);
        var post = new HttpRequestMessage(HttpMethod.Post, "/api/records") { Content = new StringContent("{}") };
        post.Headers.Host = "crm.mcp.test";
        post.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(post)).StatusCode);
        Assert.Single(_upstream.Received);
    }

    [Fact]
    public async Task HostNamesOutsideTheConfiguredSet_GetAClearRefusal_AndRoutesWithoutHostsAreUnreachable()
    {
        var (client, clientKey) = TestCertificates.Issue(_authority, "origin", server: false);
        using var _ = clientKey;
        using var http = Client(client);
        var token = await _gateway.TokenAsync("agent-1", "build");

        foreach (var host in new[] { "billing.mcp.test", "crm.mcp.test.evil.example", "mcp.test", "127.0.0.1" })
        {
            var refused = await http.SendAsync(Get(host, "/api/records/1", token));
            Assert.Equal(HttpStatusCode.MisdirectedRequest, refused.StatusCode);
            var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("unknown_host", body.GetProperty("error").GetString());
            Assert.Equal("unknown_host", _gateway.AuditFor(refused).GetProperty("code").GetString());
        }
        Assert.Empty(_upstream.Received);

        // The agent listener's "api" route (no host names) does not exist on the inbound listener.
        var other = await http.SendAsync(Get("crm.mcp.test", "/other/x", token));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal("route_not_found", _gateway.AuditFor(other).GetProperty("code").GetString());
        // Nor is a route that names the servers by wildcard: each inbound host reaches only its own routes.
        var wild = await http.SendAsync(Get("crm.mcp.test", "/wild/x", token));
        Assert.Equal(HttpStatusCode.NotFound, wild.StatusCode);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task NoCertificate_AForeignCasCertificate_OrAnExpiredOne_AreRefusedAtTheHandshake()
    {
        var (foreign, foreignKey) = TestCertificates.Issue(_foreignAuthority, "impostor", server: false);
        var (expired, expiredKey) = TestCertificates.Issue(_authority, "expired", server: false,
            DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(-1));
        using var _ = foreignKey;
        using var __ = expiredKey;
        var token = await _gateway.TokenAsync("agent-1", "build");
        var recordsBefore = _gateway.AuditRecords().Count;
        var errors = new List<string>();

        foreach (var (label, certificate) in new[] { ("none", (X509Certificate2?)null), ("foreign", foreign), ("expired", expired) })
        {
            // A raw TLS client: the certificate is presented whatever the server's acceptable-issuer list says.
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, InboundUri.Port);
            await using var tls = new SslStream(tcp.GetStream());
            var failure = await Record.ExceptionAsync(async () =>
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "crm.mcp.test",
                    EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
                    ClientCertificates = certificate is null ? null : new X509CertificateCollection { certificate },
                    LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                });
                await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET /api/records/1 HTTP/1.1\r\nHost: crm.mcp.test\r\nAuthorization: Bearer {token}\r\n\r\n"));
                var buffer = new byte[1024];
                if (await tls.ReadAsync(buffer) == 0)
                    throw new IOException("closed without an answer");
            });
            Assert.True(failure is IOException or System.Security.Authentication.AuthenticationException, $"{label}: {failure}");
            errors.Add($"{label}: {failure}");
        }

        Assert.Empty(_upstream.Received);
        Assert.Equal(recordsBefore, _gateway.AuditRecords().Count); // nothing got as far as HTTP
        var metrics = await _gateway.MetricsAsync();
        Assert.True(metrics.Contains("agentperimeter_inbound_tls_refusals_total{reason=\"untrusted_issuer\"} 1"), string.Join("\n----\n", errors));
        Assert.Contains("agentperimeter_inbound_tls_refusals_total{reason=\"expired_or_not_yet_valid\"} 1", metrics);
    }
}
