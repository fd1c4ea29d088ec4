using System.Globalization;
using System.Net;

namespace AgentPerimeter.Benchmarks;

/// <summary>Starts gateways: the Release build as a child process, each with its own directory, config, data and ports.</summary>
internal sealed class GatewayLauncher(BenchSettings settings, string dotnet, Uri upstream, Uri mcpServer, HttpClient http)
{
    /// <summary>
    /// Starts a gateway in <paramref name="dir"/> (its config/ and data/ there) and waits until it is ready.
    /// <paramref name="withLimits"/> adds the benchmark's rate limits; <paramref name="redisPort"/> keeps their
    /// state in that Redis instead of in memory; <paramref name="tunnel"/> declares tunnel <c>bench-mcp</c>
    /// (its credential file), opens the tunnel listener on that port, and adds the tunnel and upload routes.
    /// <paramref name="auditDurability"/> sets <c>Gateway:Audit:Durability</c> on the command line; null keeps the default.
    /// <paramref name="egress"/> adds the egress rules to those ports and opens the egress listener on a port the OS picks,
    /// which the gateway's log file (in its data directory) names.
    /// </summary>
    public async Task<GatewayProcess> StartAsync(string name, string dir, CancellationToken ct,
        bool withLimits = false, int? redisPort = null, (int Port, string CredentialFile)? tunnel = null, string? auditDurability = null,
        EgressPorts? egress = null)
    {
        var configDir = Path.Combine(dir, "config");
        var dataDir = Path.Combine(dir, "data");
        Directory.CreateDirectory(configDir);
        Directory.CreateDirectory(dataDir);
        GatewayConfig.Write(settings.RepoRoot, configDir, mcpServer, withTunnel: tunnel is not null, withLimits, egress);

        int agentPort = LoopbackPort.Free(), adminPort = LoopbackPort.Free();
        while (adminPort == agentPort)
            adminPort = LoopbackPort.Free();
        var agent = new Uri($"http://127.0.0.1:{agentPort}/");
        var admin = new Uri($"http://127.0.0.1:{adminPort}/");
        var arguments = Arguments(configDir, dataDir, agentPort, adminPort, redisPort, tunnel, auditDurability);
        if (egress is not null)
            arguments.AddRange([EgressBench.ListenerArgument, EgressBench.LogArgument]);
        var child = ChildProcess.Start(name, dotnet, arguments, dir);
        await child.WaitUntilReadyAsync(token => IsReadyAsync(admin, token), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100),
            $"{name} did not become ready", ct).ConfigureAwait(false);
        var egressUri = egress is null ? null
            : await EgressBench.ReadListenerUriAsync(Path.Combine(dataDir, EgressBench.LogFile), TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        return new GatewayProcess(child, agent, admin) { Egress = egressUri };
    }

    private List<string> Arguments(string configDir, string dataDir, int agentPort, int adminPort,
        int? redisPort, (int Port, string CredentialFile)? tunnel, string? auditDurability)
    {
        List<string> arguments =
        [
            settings.GatewayDll,
            "--config-dir", configDir,
            $"--Gateway:Listeners:Agent=http://127.0.0.1:{agentPort}",
            $"--Gateway:Listeners:Admin=http://127.0.0.1:{adminPort}",
            $"--Gateway:DataDirectory={dataDir}",
            "--Gateway:Logging:Console=false",
            $"--ReverseProxy:Clusters:demo:Destinations:demo-1:Address={upstream}",
        ];
        if (redisPort is { } port)
            arguments.Add($"--Gateway:Redis:ConnectionString=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        if (tunnel is { } t)
            arguments.AddRange(TunnelBench.GatewayArguments(t.Port, t.CredentialFile));
        if (auditDurability is not null)
            arguments.Add(DurabilityBench.GatewayArgument(auditDurability));
        return arguments;
    }

    private async Task<bool> IsReadyAsync(Uri admin, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(admin, "readyz"), ct).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false; // Not listening yet.
        }
    }
}
