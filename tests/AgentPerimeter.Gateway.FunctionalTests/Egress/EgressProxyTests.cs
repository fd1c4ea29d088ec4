using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Gateway.FunctionalTests.Egress;

/// <summary>
/// The sandbox egress proxy with real clients — curl, git, Python's urllib, .NET's HttpClient — against
/// real local servers (plain HTTP, and HTTPS with a private CA): allowed hosts work, everything else is
/// refused with a clear proxy error, private and metadata addresses are refused in every spelling, the
/// TLS server name must be the CONNECT host, and a revoked session's open tunnel is closed within a second.
/// </summary>
public sealed class EgressProxyTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("perimeter-egress-").FullName;
    private TestUpstream _http = null!;
    private WebApplication _https = null!;
    private string _caFile = null!;
    private int _httpsPort;
    private string _repoRoot = null!;

    public async Task InitializeAsync()
    {
        _http = await TestUpstream.StartAsync();
        var ca = TestCertificates.CreateAuthority("egress test CA");
        var (leaf, key) = TestCertificates.Issue(ca, "localhost", server: true, dnsNames: ["localhost"]);
        _caFile = TestCertificates.WritePem(_dir, "ca", ca).Certificate;
        _repoRoot = CreateDumbGitRepo();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var serverCert = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pfx), null);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(serverCert)));
        _https = builder.Build();
        _https.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(_repoRoot), ServeUnknownFileTypes = true, RequestPath = "/git" });
        _https.MapGet("/hello", () => "hello over tls");
        await _https.StartAsync();
        _httpsPort = new Uri(_https.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        await _https.DisposeAsync();
        await _http.DisposeAsync();
    }

    private int HttpPort => new Uri(_http.Url).Port;

    private string Policy(string mode = "enforce", bool allowLoopback = true) => $$"""
        {
          "Perimeter": {
            "WorkTypes": {
              "build": {
                "Rules": [ { "Id": "build-read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] } ],
                "Egress": { "Rules": [
                  { "Id": "egress-tls", "Hosts": [ "localhost" ], "Ports": [ {{_httpsPort}} ], "Mode": "{{mode}}"{{(allowLoopback ? ", \"AllowCidrs\": [ \"127.0.0.0/8\", \"::1/128\" ]" : "")}} },
                  { "Id": "egress-http", "Hosts": [ "localhost", "127.0.0.1" ], "Ports": [ {{HttpPort}} ], "Methods": [ "GET" ], "Paths": [ "/api/**" ]{{(allowLoopback ? ", \"AllowCidrs\": [ \"127.0.0.0/8\", \"::1/128\" ]" : "")}} },
                  { "Id": "egress-no-cidr", "Hosts": [ "127.0.0.2", "metadata.internal.test" ], "Ports": [ 80, 443 ] }
                ] }
              },
              "exploration": { "Rules": [ { "Id": "explore-read", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] } ] }
            }
          }
        }
        """;

    private async Task<(TestGateway Gateway, string Token, string Proxy)> StartAsync(string? policy = null, params string[] extraArgs)
    {
        var gw = await TestGateway.StartAsync(_http.Url, policy ?? Policy(), extraArgs: ["--Gateway:Listeners:Egress=http://127.0.0.1:0", .. extraArgs]);
        var token = await gw.TokenAsync("ci-bot", "build");
        var egress = gw.App.Services.GetRequiredService<AgentPerimeter.Gateway.Hosting.PerimeterListeners>().EgressUri!;
        return (gw, token, $"http://ci-bot:{token}@127.0.0.1:{egress.Port}");
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] args, params (string, string)[] env)
    {
        using var process = ChildProcess.StartExecutable(file, args, environment: env);
        int exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, process.Output);
    }

    [Fact]
    public async Task Curl_PlainHttp_AndHttpsThroughConnect_ToAllowedHosts_Work_AndAreRecordedAsEgress()
    {
        var (gw, token, proxy) = await StartAsync();
        await using var _ = gw;

        var (exit, output) = await RunAsync("curl", ["-sS", "-x", proxy, $"http://localhost:{HttpPort}/api/egress"]);
        Assert.True(exit == 0, output);
        Assert.Contains("\"upstream\":\"test\"", output);
        // The proxy credentials stop at the gateway.
        Assert.DoesNotContain(_http.Received, r => r.Headers.ContainsKey("Proxy-Authorization"));

        (exit, output) = await RunAsync("curl", ["-sS", "--cacert", _caFile, "-x", proxy, $"https://localhost:{_httpsPort}/hello"]);
        Assert.True(exit == 0, output);
        Assert.Contains("hello over tls", output);

        // A tunnel's outcome is written when it closes, just after curl has its answer.
        await Eventually.UntilAsync(() => EgressRecords(gw).Count == 2, TimeSpan.FromSeconds(5), "both egress actions were recorded");
        var egress = EgressRecords(gw);
        var tunnel = Assert.Single(egress, r => r.GetProperty("egress").GetProperty("mode").GetString() == "connect");
        Assert.Equal("allow", tunnel.GetProperty("decision").GetString());
        Assert.Equal("egress-tls", tunnel.GetProperty("rule").GetString());
        Assert.Equal("localhost", tunnel.GetProperty("egress").GetProperty("sni").GetString());
        Assert.True(tunnel.GetProperty("egress").GetProperty("bytes_down").GetInt64() > 0);
        Assert.True(tunnel.GetProperty("governed").GetBoolean());
        // Intent before the gateway connected out, outcome after: both in the chain.
        var id = tunnel.GetProperty("action_id").GetString();
        Assert.Equal(["intent", "outcome"], gw.AllAuditRecords().Where(r => r.TryGetProperty("action_id", out var a) && a.GetString() == id).Select(r => r.GetProperty("phase").GetString()));
        Assert.Contains("agentperimeter_actions_total{work_type=\"build\",route=\"egress\",kind=\"egress\",decision=\"allow\",governed=\"true\"} 2", await gw.MetricsAsync());
        Assert.DoesNotContain(token, File.ReadAllText(gw.AuditPath));
    }

    [Fact]
    public async Task OtherHostPortMethodOrPath_IsRefused_WithAClearProxyError()
    {
        var (gw, _, proxy) = await StartAsync();
        await using var __ = gw;

        var (exit, output) = await RunAsync("curl", ["-sS", "-i", "-x", proxy, $"http://localhost:{HttpPort}/other/x"]);
        Assert.Contains("403", output);
        Assert.Contains("egress_denied", output);
        (exit, output) = await RunAsync("curl", ["-sS", "-i", "-X", "POST", "-x", proxy, $"http://localhost:{HttpPort}/api/x"]);
        Assert.Contains("egress_denied", output);
        (exit, output) = await RunAsync("curl", ["-sS", "-v", "-x", proxy, $"https://example.com:{_httpsPort}/"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("403", output); // curl: "CONNECT tunnel failed, response 403"
        (exit, output) = await RunAsync("curl", ["-sS", "-v", "-x", proxy, "https://localhost:1/"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("403", output);
        Assert.Empty(_http.Received);
        Assert.All(gw.AuditRecords().Where(r => r.GetProperty("kind").GetString() == "egress"), r => Assert.Equal("deny", r.GetProperty("decision").GetString()));
    }

    [Theory]
    [InlineData("none")]
    [InlineData("bad")]
    [InlineData("revoked")]
    public async Task MissingBadOrRevokedCredentials_Get407_WithProxyAuthenticate_AndAreAudited(string credentials)
    {
        var (gw, token, proxy) = await StartAsync();
        await using var _ = gw;
        var egress = gw.App.Services.GetRequiredService<AgentPerimeter.Gateway.Hosting.PerimeterListeners>().EgressUri!;
        if (credentials == "revoked")
        {
            var sid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).GetClaim("sid").Value;
            (await gw.Admin.PostAsync($"admin/sessions/{sid}/revoke", null)).EnsureSuccessStatusCode();
        }
        var proxyUrl = credentials switch
        {
            "none" => $"http://127.0.0.1:{egress.Port}",
            "bad" => $"http://ci-bot:not-a-token@127.0.0.1:{egress.Port}",
            _ => proxy,
        };
        var (_, output) = await RunAsync("curl", ["-sS", "-i", "-x", proxyUrl, $"http://localhost:{HttpPort}/api/x"]);
        Assert.Contains("407 Proxy Authentication Required", output);
        Assert.Contains("Proxy-Authenticate: Basic realm=\"agentperimeter\"", output);
        Assert.Empty(_http.Received);
        var record = Assert.Single(gw.AuditRecords(), r => r.GetProperty("kind").GetString() == "egress");
        Assert.Equal("unauthenticated", record.GetProperty("decision").GetString());
        Assert.Equal(credentials switch { "none" => "missing_token", "bad" => "invalid_token", _ => "session_revoked" }, record.GetProperty("code").GetString());
    }

    // A token the OAuth endpoint bound to a resource of the agent listener (RFC 8707) is no proxy credential.
    [Fact]
    public async Task AResourceBoundToken_IsNoProxyCredential()
    {
        var secret = Path.Combine(Directory.CreateTempSubdirectory("perimeter-egress-oauth-").FullName, "secret");
        File.WriteAllText(secret, "client-secret-for-the-egress-test");
        var (gw, _, _) = await StartAsync(null, "--Gateway:AllowedHosts:0=127.0.0.1", "--Gateway:OAuth:Clients:ci-bot:WorkTypes:0=build",
            "--Gateway:OAuth:Clients:ci-bot:Secret:Kind=file", $"--Gateway:OAuth:Clients:ci-bot:Secret:Path={secret}");
        await using var _ = gw;
        var issued = await gw.Agent.PostAsync(".perimeter/oauth/token", new FormUrlEncodedContent(
        [
            new("grant_type", "client_credentials"), new("client_id", "ci-bot"), new("client_secret", "client-secret-for-the-egress-test"),
            new("resource", new Uri(gw.AgentUri, "mcp").ToString()),
        ]));
        var bound = System.Text.Json.JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        var egress = gw.App.Services.GetRequiredService<AgentPerimeter.Gateway.Hosting.PerimeterListeners>().EgressUri!;

        var (_, output) = await RunAsync("curl", ["-sS", "-i", "-x", $"http://ci-bot:{bound}@127.0.0.1:{egress.Port}", $"http://localhost:{HttpPort}/api/x"]);

        Assert.Contains("407 Proxy Authentication Required", output);
        Assert.Empty(_http.Received);
        Assert.Equal("invalid_audience", Assert.Single(gw.AuditRecords(), r => r.GetProperty("kind").GetString() == "egress").GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("127.0.0.2", 80)]              // loopback, named in a rule without AllowCidrs
    [InlineData("[::ffff:127.0.0.1]", 80)]     // IPv4-mapped loopback
    [InlineData("[64:ff9b::a9fe:a9fe]", 80)]   // cloud metadata through NAT64
    [InlineData("[2002:a9fe:a9fe::1]", 443)]   // cloud metadata through 6to4
    [InlineData("localhost", 0)]               // a name that resolves to loopback, with no CIDR allowance
    public async Task PrivateAndMetadataAddresses_AreRefused_InEverySpelling(string host, int port)
    {
        var policy = Policy(allowLoopback: false).Replace("\"127.0.0.2\", \"metadata.internal.test\"",
            "\"127.0.0.2\", \"metadata.internal.test\", \"::ffff:127.0.0.1\", \"64:ff9b::a9fe:a9fe\", \"2002:a9fe:a9fe::1\"");
        var (gw, _, proxy) = await StartAsync(policy);
        await using var _ = gw;
        var target = port == 0 ? $"http://{host}:{HttpPort}/api/x" : $"http://{host}:{port}/api/x";

        var (_, output) = await RunAsync("curl", ["-sS", "-i", "-x", proxy, target]);
        Assert.Contains("403", output);
        Assert.Contains("address_not_allowed", output);
        Assert.Empty(_http.Received);
    }

    [Fact]
    public async Task SniThatIsNotTheConnectHost_ClosesTheTunnel_AndIsAuditedSniMismatch()
    {
        var (gw, token, _) = await StartAsync();
        await using var __ = gw;
        var egress = gw.App.Services.GetRequiredService<AgentPerimeter.Gateway.Hosting.PerimeterListeners>().EgressUri!;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, egress.Port);
        var stream = tcp.GetStream();
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"ci-bot:{token}"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT localhost:{_httpsPort} HTTP/1.1\r\nHost: localhost:{_httpsPort}\r\nProxy-Authorization: Basic {basic}\r\n\r\n"));
        var reply = new byte[256];
        int n = await stream.ReadAsync(reply);
        Assert.StartsWith("HTTP/1.1 200", Encoding.ASCII.GetString(reply, 0, n));

        // Domain fronting: the tunnel was asked for localhost, the TLS names another host.
        using var tls = new SslStream(stream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await Assert.ThrowsAnyAsync<Exception>(() => tls.AuthenticateAsClientAsync("fronted.example.com"));

        await Eventually.UntilAsync(() => gw.AuditRecords().Any(r => r.GetProperty("kind").GetString() == "egress"), TimeSpan.FromSeconds(5), "the tunnel's outcome was recorded");
        var record = Assert.Single(gw.AuditRecords(), r => r.GetProperty("kind").GetString() == "egress");
        Assert.Equal("sni_mismatch", record.GetProperty("code").GetString());
        Assert.Equal("violation", record.GetProperty("outcome").GetString());
        Assert.Equal("fronted.example.com", record.GetProperty("egress").GetProperty("sni").GetString());
    }

    [Fact]
    public async Task EgressRateLimit_RefusesTheConnectionOverBudget_With429()
    {
        var policy = Policy().Replace("\"Egress\": {", "\"RateLimits\": { \"Limits\": [ { \"Id\": \"egress-burst\", \"Limit\": 2, \"Period\": \"00:01:00\", \"Route\": \"egress\" } ] },\n\"Egress\": {");
        var (gw, _, proxy) = await StartAsync(policy);
        await using var _ = gw;
        for (int i = 0; i < 2; i++)
        {
            var (exit, output) = await RunAsync("curl", ["-sS", "-x", proxy, $"http://localhost:{HttpPort}/api/limited"]);
            Assert.True(exit == 0, output);
        }
        var (_, refused) = await RunAsync("curl", ["-sS", "-i", "-x", proxy, $"http://localhost:{HttpPort}/api/limited"]);
        Assert.Contains("429 Too Many Requests", refused);
        Assert.Contains("egress-burst", refused);
        Assert.Equal(2, _http.Received.Count);
    }

    [Fact]
    public async Task MaxOpenPerSession_RefusesAnotherTunnel_WhileTheSessionHoldsItsCap()
    {
        var policy = Policy().Replace("\"Egress\": { \"Rules\": [", "\"Egress\": { \"MaxOpenPerSession\": 1, \"Rules\": [");
        var (gw, token, proxy) = await StartAsync(policy);
        await using var _ = gw;
        using var handler = new HttpClientHandler
        {
            Proxy = new WebProxy(new Uri(proxy.Replace($"ci-bot:{token}@", ""))) { Credentials = new NetworkCredential("ci-bot", token) },
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
        };
        using var client = new HttpClient(handler);
        Assert.Equal("hello over tls", await client.GetStringAsync($"https://localhost:{_httpsPort}/hello")); // holds one tunnel open
        var (_, output) = await RunAsync("curl", ["-sS", "-i", "-x", proxy, $"http://localhost:{HttpPort}/api/x"]);
        Assert.Contains("429 Too Many Requests", output);
        Assert.Empty(_http.Received);
    }

    [Fact]
    public async Task ReportModeRule_Allows_ButTheActionIsNotGoverned()
    {
        var (gw, _, proxy) = await StartAsync(Policy(mode: "report"));
        await using var _ = gw;
        var (exit, output) = await RunAsync("curl", ["-sS", "--cacert", _caFile, "-x", proxy, $"https://localhost:{_httpsPort}/hello"]);
        Assert.True(exit == 0, output);
        await Eventually.UntilAsync(() => EgressRecords(gw).Count == 1, TimeSpan.FromSeconds(5), "the tunnel's outcome was recorded");
        var record = Assert.Single(EgressRecords(gw));
        Assert.Equal("would_deny", record.GetProperty("decision").GetString());
        Assert.False(record.GetProperty("governed").GetBoolean());
    }

    [Fact]
    public async Task RevokingTheSession_ClosesItsOpenTunnel_WithinASecond()
    {
        var (gw, token, proxy) = await StartAsync();
        await using var _ = gw;
        using var handler = new HttpClientHandler
        {
            Proxy = new WebProxy(new Uri(proxy.Replace($"ci-bot:{token}@", ""))) { Credentials = new NetworkCredential("ci-bot", token) },
            ServerCertificateCustomValidationCallback = (_, _, _, _) => true,
        };
        using var client = new HttpClient(handler);
        // An open tunnel: the client keeps its connection for the next request.
        Assert.Equal("hello over tls", await client.GetStringAsync($"https://localhost:{_httpsPort}/hello"));
        await Eventually.UntilAsync(async () => (await gw.MetricsAsync()).Contains("agentperimeter_egress_open 1"), TimeSpan.FromSeconds(5), "the tunnel is open");

        var sid = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).GetClaim("sid").Value;
        var watch = Stopwatch.StartNew();
        (await gw.Admin.PostAsync($"admin/sessions/{sid}/revoke", null)).EnsureSuccessStatusCode();
        await Eventually.UntilAsync(async () => (await gw.MetricsAsync()).Contains("agentperimeter_egress_open 0"), TimeSpan.FromSeconds(2), "the revoked session's tunnel closed");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1.5), $"closed after {watch.Elapsed}");
        // .NET's client asks without credentials first (a 407, recorded too), then with them.
        await Eventually.UntilAsync(() => EgressRecords(gw).Any(r => r.GetProperty("decision").GetString() != "unauthenticated"), TimeSpan.FromSeconds(5), "recorded");
        var record = Assert.Single(EgressRecords(gw), r => r.GetProperty("decision").GetString() != "unauthenticated");
        Assert.Equal("revoked", record.GetProperty("egress").GetProperty("close_reason").GetString());
        Assert.Equal("revoked", record.GetProperty("outcome").GetString());
        Assert.True(record.GetProperty("governed").GetBoolean()); // the kill switch is the perimeter at work
        Assert.Equal("tunnel_revoked", record.GetProperty("code").GetString());
    }

    [Fact]
    public async Task GitOverHttps_AndPythonUrllib_WorkThroughTheProxy()
    {
        var (gw, _, proxy) = await StartAsync();
        await using var _ = gw;
        var clone = Path.Combine(_dir, "clone");
        var (exit, output) = await RunAsync("git", ["-c", $"http.proxy={proxy}", "clone", $"https://localhost:{_httpsPort}/git/repo.git", clone],
            ("GIT_TERMINAL_PROMPT", "0"), ("HOME", _dir), ("GIT_SSL_CAINFO", _caFile));
        Assert.True(exit == 0, output);
        Assert.Equal("hello from a repository behind the perimeter\n", File.ReadAllText(Path.Combine(clone, "README")));

        var script = $"import urllib.request,ssl;ctx=ssl.create_default_context(cafile=r'{_caFile}');print(urllib.request.urlopen('https://localhost:{_httpsPort}/hello',context=ctx).read().decode())";
        (exit, output) = await RunAsync("python3", ["-c", script], ("HTTPS_PROXY", proxy), ("https_proxy", proxy), ("NO_PROXY", ""), ("no_proxy", ""));
        Assert.True(exit == 0, output);
        Assert.Contains("hello over tls", output);
        // git, like .NET, asks without credentials first and answers the 407 challenge: those are recorded too.
        var decided = EgressRecords(gw).Where(r => r.GetProperty("decision").GetString() != "unauthenticated").ToList();
        Assert.True(decided.Count >= 2);
        Assert.All(decided, r => Assert.Equal("allow", r.GetProperty("decision").GetString()));
    }

    private static List<JsonElement> EgressRecords(TestGateway gw) =>
        gw.AuditRecords().Where(r => r.GetProperty("kind").GetString() == "egress").ToList();

    private string CreateDumbGitRepo()
    {
        var root = Path.Combine(_dir, "served");
        var work = Path.Combine(_dir, "work");
        Directory.CreateDirectory(work);
        void Git(string cwd, params string[] args)
        {
            var psi = new ProcessStartInfo("git") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args)
                psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = _dir;
            using var p = Process.Start(psi)!;
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"git {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
        }
        Git(work, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(work, "README"), "hello from a repository behind the perimeter\n");
        Git(work, "add", "README");
        Git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first");
        Directory.CreateDirectory(root);
        Git(_dir, "clone", "-q", "--bare", work, Path.Combine(root, "repo.git"));
        Git(Path.Combine(root, "repo.git"), "update-server-info");
        return root;
    }
}
