using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using AgentPerimeter.Cli.Sandbox;
using AgentPerimeter.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Gateway.FunctionalTests.Sandbox;

/// <summary>
/// <c>perimeter sandbox run</c> as operators run it: the CLI as a real process creating a real user and
/// network namespace (these run as root in CI, and unprivileged wherever user namespaces are allowed),
/// real <c>curl</c> and <c>getent</c> inside, a real Kestrel upstream on the host's loopback. The gateway's
/// egress listener is played by <see cref="StandInEgressProxy"/> until it lands.
/// </summary>
public sealed class SandboxRunTests : IAsyncLifetime
{
    private const string Agent = "sandbox-bot";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("perimeter-sandbox-test-").FullName;
    private readonly string _token = "sbx-" + Guid.NewGuid().ToString("N");
    private string _tokenFile = null!;
    private StandInEgressProxy _proxy = null!;
    private TestUpstream _upstream = null!;
    private int _upstreamPort;

    public async Task InitializeAsync()
    {
        _tokenFile = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(_tokenFile, _token + "\n");
        _proxy = StandInEgressProxy.Start(Path.Combine(_dir, "egress.sock"), Agent, _token);
        _upstream = await TestUpstream.StartAsync();
        _upstreamPort = new Uri(_upstream.Url).Port;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task DirectConnection_ToTheHostsLoopback_Fails_WhileProxiedRequests_ReachItThroughTheEgressSocket()
    {
        var url = $"http://127.0.0.1:{_upstreamPort}";
        var (exit, output) = await RunAsync($"""
            curl --noproxy '*' -sS -m 5 {url}/direct; echo "direct=$?"
            curl -sS -m 10 {url}/proxied; rc=$?; echo; echo "proxied=$rc"
            curl -sS -m 10 --proxytunnel {url}/tunnelled; rc=$?; echo; echo "tunnelled=$rc"
            """);

        Assert.True(exit == 0, output);
        Assert.Contains("direct=7", output); // curl: could not connect — the sandbox's 127.0.0.1 is its own
        Assert.Contains("proxied=0", output);
        Assert.Contains("tunnelled=0", output);
        Assert.Contains("\"path\":\"/proxied\"", output);
        Assert.Contains("\"path\":\"/tunnelled\"", output);
        Assert.Equal(["/proxied", "/tunnelled"], _upstream.Received.Select(r => r.Path).Order());
        // An absolute-form request and a CONNECT, each with the session's credentials as Basic agent:token.
        var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Agent}:{_token}"));
        Assert.Collection(_proxy.Seen.OrderBy(s => s.RequestLine),
            s => Assert.Equal(($"CONNECT 127.0.0.1:{_upstreamPort} HTTP/1.1", basic), s),
            s => Assert.Equal(($"GET {url}/proxied HTTP/1.1", basic), s));
        AssertNoToken(output);
    }

    [Fact]
    public async Task Inside_OnlyLoopbackHasRoutes_SoAConnectionToAnyHostAddress_FailsAtOnce()
    {
        // A host address that the host itself reaches: proof that a failure inside is the sandbox's doing.
        var hostAddress = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        Assert.True(hostAddress is not null, "the host has no non-loopback IPv4 address for this test to try from inside the sandbox");
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using (var outside = new TcpClient())
            await outside.ConnectAsync(hostAddress, port);

        var (exit, output) = await RunAsync($"""
            echo "routes=$(tail -n +2 /proc/net/route | wc -l)"
            curl --noproxy '*' -sS -m 5 http://{hostAddress}:{port}/; echo "host=$?"
            curl --noproxy '*' -sS -m 5 http://192.0.2.1/; echo "elsewhere=$?"
            """);

        Assert.True(exit == 0, output);
        Assert.Contains("routes=0", output);
        Assert.Contains("host=7", output); // could not connect (not 28, a timeout: there is no route to try)
        Assert.Contains("elsewhere=7", output);
        Assert.Matches("Network is unreachable|Couldn't connect", output);
    }

    [Fact]
    public async Task Dns_Inside_FailsForWantOfAResolver_WhileTheProxyResolvesNamesForProxiedRequests()
    {
        var (exit, output) = await RunAsync($"""
            getent hosts example.com; echo "getent=$?"
            curl --noproxy '*' -sS -m 5 http://example.com/; echo "direct=$?"
            curl -sS -m 10 http://upstream{StandInEgressProxy.TestDomain}:{_upstreamPort}/named; rc=$?; echo; echo "proxied=$rc"
            """);

        Assert.True(exit == 0, output);
        Assert.Contains("getent=2", output); // not found
        Assert.Contains("direct=6", output); // curl: could not resolve host
        Assert.Contains("proxied=0", output);
        Assert.Contains("\"path\":\"/named\"", output);
    }

    [Theory]
    [InlineData("exit 7", 7)]
    [InlineData("exit 0", 0)]
    [InlineData("kill -KILL $$", 137)]
    public async Task ExitCode_OfTheCommand_IsTheClisExitCode(string script, int expected)
    {
        var (exit, output) = await RunAsync(script);

        Assert.True(exit == expected, $"exit {exit}, expected {expected}:\n{output}");
    }

    [Fact]
    public async Task StandardStreams_PassThroughTheSandbox()
    {
        // The CLI's stdin is a pipe from printf; the command reads it, writes both streams, exits 3.
        using var run = ChildProcess.StartExecutable("sh", ["-c", "printf from-stdin | \"$@\"", "sh", "dotnet", CliDll,
            .. SandboxArgs(), "--", "sh", "-c", "cat; echo; echo to-stderr >&2; exit 3"]);

        Assert.Equal(3, await run.WaitForExitAsync(Timeout));
        Assert.Contains("from-stdin", run.Output);
        Assert.Contains("to-stderr", run.Output);
    }

    [Fact]
    public async Task Token_FromTheEnvironment_IsUsed_AndOperatorCredentialsDoNotReachTheCommand()
    {
        using var run = ChildProcess.StartExecutable("dotnet",
            [CliDll, "sandbox", "run", "--agent", Agent, "--egress-socket", _proxy.SocketPath, "--",
             "sh", "-c", $$"""
                [ -z "${PERIMETER_TOKEN+x}" ] && echo no-token-variable
                [ -z "${PERIMETER_ADMIN_TOKEN+x}" ] && echo no-admin-token-variable
                [ -z "$NO_PROXY$no_proxy" ] && echo no-proxy-emptied
                [ "$HTTPS_PROXY" = "$http_proxy" ] && [ "$ALL_PROXY" = "$HTTP_PROXY" ] && echo proxies-agree
                case "$HTTP_PROXY" in http://{{Agent}}:*@127.0.0.1:3128) echo proxy-url-shape;; esac
                curl -sS -m 10 http://127.0.0.1:{{_upstreamPort}}/from-env >/dev/null; echo "proxied=$?"
                """],
            environment: [("PERIMETER_TOKEN", _token), ("PERIMETER_ADMIN_TOKEN", "admin-secret-not-for-agents"), ("NO_PROXY", "localhost,127.0.0.1"), ("no_proxy", "localhost,127.0.0.1")]);

        Assert.Equal(0, await run.WaitForExitAsync(Timeout));
        foreach (var line in new[] { "no-token-variable", "no-admin-token-variable", "no-proxy-emptied", "proxies-agree", "proxy-url-shape", "proxied=0" })
            Assert.Contains(line, run.Output);
        Assert.Single(_proxy.Seen);
        AssertNoToken(run.Output);
    }

    [Fact]
    public async Task CaFile_IsAddedToTheSystemBundle_WithoutItsKey_SoATlsHostBehindConnectVerifies()
    {
        using var authority = TestCertificates.CreateAuthority("Perimeter Test Inspection CA");
        var (certificate, key) = TestCertificates.Issue(authority, "tls.sandbox.test", server: true, dnsNames: ["tls" + StandInEgressProxy.TestDomain]);
        using var serverKey = key;
        using var serverCertificate = certificate;
        // The CA file as an operator might hand it over: certificate and private key in one PEM.
        var caFile = Path.Combine(_dir, "inspection-ca.pem");
        using (var caKey = authority.GetECDsaPrivateKey()!)
            await File.WriteAllTextAsync(caFile, authority.ExportCertificatePem() + "\n" + caKey.ExportPkcs8PrivateKeyPem());
        await using var tls = await StartTlsServerAsync(certificate);
        var url = $"https://tls{StandInEgressProxy.TestDomain}:{tls.Port}/verified";
        const string variables = "SSL_CERT_FILE NODE_EXTRA_CA_CERTS REQUESTS_CA_BUNDLE CURL_CA_BUNDLE GIT_SSL_CAINFO";
        var script = $"""
            curl -sS -m 10 {url}; rc=$?; echo; echo "tls=$rc"
            for v in {variables}; do eval "f=\$$v"; [ -n "$f" ] && [ "$f" = "$SSL_CERT_FILE" ] && echo "set $v"; done
            [ -n "$SSL_CERT_FILE" ] && echo "certificates=$(grep -c 'BEGIN CERTIFICATE' "$SSL_CERT_FILE")" && echo "keys=$(grep -c 'PRIVATE KEY' "$SSL_CERT_FILE")"
            """;

        var (exit, output) = await RunAsync(script, "--ca-file", caFile);
        var (exitWithout, outputWithout) = await RunAsync(script);

        Assert.True(exit == 0, output);
        Assert.Contains("tls=0", output);
        Assert.Contains("verified over tls", output);
        foreach (var v in variables.Split(' '))
            Assert.Contains($"set {v}", output);
        Assert.Contains("keys=0", output);
        var certificates = int.Parse(Regex.Match(output, @"certificates=(\d+)").Groups[1].Value);
        Assert.True(certificates > 1, $"the bundle holds {certificates} certificate(s): the system bundle is missing from it");
        // The control: without the CA, the same host does not verify.
        Assert.True(exitWithout == 0, outputWithout);
        Assert.Contains("tls=60", outputWithout); // curl: peer certificate cannot be authenticated
    }

    [Fact]
    public async Task WithoutANetworkNamespace_TheCommandIsNotRun_AndTheCliSaysSo()
    {
        // An 'unshare' that fails as it does without the privileges: the real 'false', first on the PATH.
        var bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var falseProgram = path.Split(':').Select(d => Path.Combine(d, "false")).First(File.Exists);
        File.CreateSymbolicLink(Path.Combine(bin, "unshare"), falseProgram);
        var marker = Path.Combine(_dir, "the-command-ran");

        using var run = ChildProcess.StartExecutable("dotnet", [CliDll, .. SandboxArgs(), "--", "touch", marker],
            environment: [("PATH", bin + ":" + path)]);

        Assert.Equal(SandboxExitCodes.Unavailable, await run.WaitForExitAsync(Timeout));
        Assert.Contains("cannot create a network namespace", run.Output);
        Assert.Contains("the command was NOT run", run.Output);
        Assert.False(File.Exists(marker));
        Assert.Empty(_proxy.Seen);
        AssertNoToken(run.Output);
    }

    [Fact]
    public async Task WithoutTheEgressSocket_TheCommandIsNotRun_AndTheCliSaysSo()
    {
        var marker = Path.Combine(_dir, "the-command-ran");

        using var run = ChildProcess.StartExecutable("dotnet",
            [CliDll, "sandbox", "run", "--agent", Agent, "--token-file", _tokenFile, "--egress-socket", Path.Combine(_dir, "absent.sock"), "--", "touch", marker]);

        Assert.Equal(SandboxExitCodes.Unavailable, await run.WaitForExitAsync(Timeout));
        Assert.Contains("cannot reach the gateway's egress socket", run.Output);
        Assert.Contains("the command was NOT run", run.Output);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task RelayVerb_RunDirectlyOnTheHost_RefusesToRunTheCommandUncontained()
    {
        var marker = Path.Combine(_dir, "the-command-ran");
        var ready = Path.Combine(_dir, "started");

        using var run = ChildProcess.StartExecutable("dotnet",
            [CliDll, "sandbox", "relay", "--listen", "127.0.0.1:0", "--to", _proxy.SocketPath, "--host-netns", NetworkNamespace.Current()!,
             "--ready-file", ready, "--", "touch", marker]);

        Assert.Equal(SandboxExitCodes.SetupFailed, await run.WaitForExitAsync(Timeout));
        Assert.Contains("not a new network namespace", run.Output);
        Assert.False(File.Exists(marker));
        Assert.False(File.Exists(ready));
    }

    private static string CliDll => ChildProcess.ProductDll("AgentPerimeter.Cli", "perimeter");

    private string[] SandboxArgs() => ["sandbox", "run", "--agent", Agent, "--token-file", _tokenFile, "--egress-socket", _proxy.SocketPath];

    /// <summary>Runs <paramref name="script"/> with <c>sh -c</c> in a sandbox; the CLI's exit code and everything it and the command printed.</summary>
    private async Task<(int Exit, string Output)> RunAsync(string script, params string[] options)
    {
        // An inherited NO_PROXY that exempts loopback, as many machines set: the sandbox must empty it.
        using var run = ChildProcess.StartExecutable("dotnet", [CliDll, .. SandboxArgs(), .. options, "--", "sh", "-c", script],
            environment: [("NO_PROXY", "localhost,127.0.0.1"), ("no_proxy", "localhost,127.0.0.1")]);
        var exit = await run.WaitForExitAsync(Timeout);
        return (exit, run.Output);
    }

    /// <summary>The token is in the command's environment only: not in anything the CLI printed, raw or as the Basic credential.</summary>
    private void AssertNoToken(string output)
    {
        Assert.DoesNotContain(_token, output);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Agent}:{_token}")), output);
    }

    private static async Task<TlsServer> StartTlsServerAsync(X509Certificate2 certificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(certificate)));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(ctx => ctx.Response.WriteAsync($"{ctx.Request.Path.Value?.TrimStart('/')} over tls"));
        await app.StartAsync();
        return new TlsServer(app);
    }

    private sealed class TlsServer(WebApplication app) : IAsyncDisposable
    {
        public int Port => new Uri(app.Urls.First()).Port;

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
