using AgentPerimeter.Connector;
using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Gateway.Tunnels;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentPerimeter.Testing;

/// <summary>Tunnels for tests: credentials in files, gateway arguments, connectors in-process or as real processes.</summary>
public sealed class TunnelSetup : IDisposable
{
    private readonly Dictionary<string, string> _credentials = [];

    public TunnelSetup(params string[] tunnels)
    {
        Dir = Directory.CreateTempSubdirectory("perimeter-tunnel-").FullName;
        foreach (var name in tunnels)
        {
            var credential = TestSecrets.New("tunnel-" + name);
            _credentials[name] = credential;
            File.WriteAllText(CredentialFile(name), credential + "\n");
        }
    }

    public string Dir { get; }

    public string Credential(string tunnel) => _credentials[tunnel];

    public string CredentialFile(string tunnel) => Path.Combine(Dir, "tunnel-" + tunnel);

    /// <summary>Gateway arguments: a tunnel listener on a free port and every tunnel declared with its credential file.</summary>
    public string[] GatewayArgs(string tunnelListener = "http://127.0.0.1:0") =>
    [
        $"--Gateway:Listeners:Tunnel={tunnelListener}",
        .. _credentials.Keys.SelectMany(name => new[]
        {
            $"--Gateway:Tunnels:{name}:Credential:Kind=file",
            $"--Gateway:Tunnels:{name}:Credential:Path={CredentialFile(name)}",
        }),
    ];

    public static Uri TunnelUri(TestGateway gateway) =>
        gateway.App.Services.GetRequiredService<PerimeterListeners>().TunnelUri ?? throw new InvalidOperationException("no tunnel listener");

    /// <summary>An in-process connector (the same host the connector binary runs).</summary>
    public async Task<WebApplication> StartConnectorAsync(Uri gateway, string tunnel, string target, int idle = 2, string? credential = null, string id = "test-connector")
    {
        var app = ConnectorApp.Build(new ConnectorOptions
        {
            Gateways = [gateway],
            Tunnel = tunnel,
            Credential = credential ?? Credential(tunnel),
            TargetPrefix = target.StartsWith("unix:", StringComparison.Ordinal) ? new Uri("http://localhost/") : new Uri(target),
            TargetSocket = target.StartsWith("unix:", StringComparison.Ordinal) ? target[5..] : null,
            IdleConnections = idle,
            InstanceId = id,
        }, b =>
        {
            b.Logging.ClearProviders();
            b.Logging.AddProvider(new FileLoggerProvider(Path.Combine(Dir, id + ".log")));
            b.Logging.SetMinimumLevel(LogLevel.Debug);
        });
        await app.StartAsync();
        return app;
    }

    /// <summary>The connector binary as a real child process.</summary>
    public ChildProcess StartConnectorProcess(Uri gateway, string tunnel, string target, string id, string? credentialFile = null, int idle = 2) =>
        ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Connector", "agentperimeter-connector"),
        [
            "--gateway", gateway.ToString(), "--tunnel", tunnel, "--target", target,
            "--credential-file", credentialFile ?? CredentialFile(tunnel), "--connections", idle.ToString(), "--id", id,
        ]);

    /// <summary>Waits until the gateway sees <paramref name="connectors"/> connector instances on the tunnel.</summary>
    public static Task WaitForConnectorsAsync(TestGateway gateway, string tunnel, int connectors, TimeSpan? timeout = null)
    {
        var pool = gateway.App.Services.GetRequiredService<TunnelRegistry>().Pool(tunnel)!;
        return Eventually.UntilAsync(() => pool.Connectors.Count == connectors, timeout ?? TimeSpan.FromSeconds(30),
            $"tunnel '{tunnel}' has {connectors} connectors", () => $"it has {pool.Connectors.Count}");
    }

    /// <summary>What the in-process connector <paramref name="id"/> has logged so far.</summary>
    public string ConnectorLog(string id)
    {
        var path = Path.Combine(Dir, id + ".log");
        if (!File.Exists(path))
            return "";
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("PERIMETER_KEEP_TEST_DIRS") == "1")
            return;
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
