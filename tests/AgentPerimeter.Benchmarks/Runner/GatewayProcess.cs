namespace AgentPerimeter.Benchmarks;

/// <summary>A gateway child the run started: its listeners (the egress one, if any) and, once it is ready, its bearer token and RSS sampler.</summary>
internal sealed class GatewayProcess(ChildProcess process, Uri agent, Uri admin)
{
    public ChildProcess Process { get; } = process;

    /// <summary>The agent listener, where the load goes.</summary>
    public Uri Agent { get; } = agent;

    /// <summary>The admin listener: readiness, sessions, metrics, tunnels.</summary>
    public Uri Admin { get; } = admin;

    /// <summary>The egress listener (a forward proxy), as the gateway logged it once bound; null when it has none.</summary>
    public Uri? Egress { get; init; }

    /// <summary>A session token minted by this gateway (each gateway has its own signing key).</summary>
    public string Token { get; private set; } = "";

    public RssSampler? Rss { get; private set; }

    /// <summary>Mints this gateway's session token, then starts sampling its RSS.</summary>
    public async Task PrepareAsync(HttpClient http, CancellationToken ct)
    {
        Token = await SessionToken.MintAsync(http, Admin, ct).ConfigureAwait(false);
        Rss = new RssSampler(Process.Pid);
    }
}
