using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The gateway's memory with many idle tunnels: <see cref="EgressBench.IdleTunnels"/> raw CONNECT tunnels to the silent
/// TCP server, opened <see cref="EgressBench.IdleTunnelOpeners"/> at a time and held while nothing moves, the gateway's
/// VmRSS taken before, with them open and after they closed (each figure the median of <see cref="EgressBench.RssReadings"/>
/// readings of its sampler), and its <c>agentperimeter_egress_open</c> at each point.
/// </summary>
internal sealed record EgressIdleTunnels(
    int Requested, int Opened, int Failed, TimeSpan OpenTime, long ServerHeld,
    long RssBeforeKb, long RssOpenKb, long RssAfterCloseKb,
    double GaugeBefore, double GaugeOpen, double GaugeAfterClose, TimeSpan CloseTime)
{
    /// <summary>How long a step may wait for the gateway to see every tunnel open, or closed.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Resident memory the open tunnels added, in KB.</summary>
    public long AddedKb => RssOpenKb - RssBeforeKb;

    public double KbPerTunnel => Opened > 0 ? (double)AddedKb / Opened : double.NaN;

    public static async Task<EgressIdleTunnels> RunAsync(HttpClient http, GatewayProcess gateway, SilentTcpServer server, List<string> problems, CancellationToken ct)
    {
        var rss = gateway.Rss ?? throw new InvalidOperationException("the gateway's RSS is not sampled");
        var proxy = gateway.Egress ?? throw new InvalidOperationException("the gateway has no egress listener");
        var gaugeBefore = await OpenGaugeAsync(http, gateway, ct).ConfigureAwait(false);
        var rssBefore = await MedianRssAsync(rss, ct).ConfigureAwait(false);

        BenchLog.Write($"idle tunnels: opening {EgressBench.IdleTunnels:N0} raw tunnels to 127.0.0.1:{server.Port}, {EgressBench.IdleTunnelOpeners} at a time");
        var streams = new ConcurrentBag<NetworkStream>();
        var errors = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, EgressBench.IdleTunnels),
            new ParallelOptions { MaxDegreeOfParallelism = EgressBench.IdleTunnelOpeners, CancellationToken = ct },
            async (_, token) =>
            {
                try
                {
                    streams.Add(await ProxyConnect.OpenAsync(proxy, EgressBench.RawHost, server.Port, gateway.Token, token).ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException)
                {
                    errors.Enqueue(ex.Message);
                }
            }).ConfigureAwait(false);
        var openTime = clock.Elapsed;
        int opened = streams.Count;
        try
        {
            // The gateway answers 200 once it is connected upstream; the server's accept loop may still be a step behind.
            await server.WaitUntilHeldAsync(opened, SettleTimeout, ct).ConfigureAwait(false);
            await WaitAsync(async () => await OpenGaugeAsync(http, gateway, ct).ConfigureAwait(false) >= gaugeBefore + opened, ct).ConfigureAwait(false);
            var gaugeOpen = await OpenGaugeAsync(http, gateway, ct).ConfigureAwait(false);
            var rssOpen = await MedianRssAsync(rss, ct).ConfigureAwait(false);
            long held = server.Held;
            BenchLog.Write($"idle tunnels: {opened:N0} open in {openTime.TotalSeconds:F1} s (gateway: {gaugeOpen:N0} open), "
                + $"gateway RSS {rssBefore / 1024.0:F0} -> {rssOpen / 1024.0:F0} MiB");

            // Close like a sandbox that is done: the client side first, then the destination (which the gateway otherwise
            // waits for: a client's end of sending is passed on as a half-close).
            clock.Restart();
            await CloseAllAsync(streams).ConfigureAwait(false);
            server.CloseAccepted();
            await WaitAsync(async () => await OpenGaugeAsync(http, gateway, ct).ConfigureAwait(false) <= gaugeBefore, ct).ConfigureAwait(false);
            var closeTime = clock.Elapsed;
            var gaugeAfter = await OpenGaugeAsync(http, gateway, ct).ConfigureAwait(false);
            var rssAfter = await MedianRssAsync(rss, ct).ConfigureAwait(false);
            BenchLog.Write($"idle tunnels: closed in {closeTime.TotalSeconds:F1} s (gateway: {gaugeAfter:N0} open), gateway RSS {rssAfter / 1024.0:F0} MiB");

            foreach (var error in errors.Take(5))
                problems.Add($"idle tunnels: {error}");
            if (errors.Count > 5)
                problems.Add($"idle tunnels: {errors.Count - 5} more tunnels failed to open");
            return new EgressIdleTunnels(EgressBench.IdleTunnels, opened, errors.Count, openTime, held,
                rssBefore, rssOpen, rssAfter, gaugeBefore, gaugeOpen, gaugeAfter, closeTime);
        }
        finally
        {
            await CloseAllAsync(streams).ConfigureAwait(false);
            server.CloseAccepted();
        }
    }

    private static async Task CloseAllAsync(ConcurrentBag<NetworkStream> streams)
    {
        while (streams.TryTake(out var stream))
            await stream.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The gateway's <c>agentperimeter_egress_open</c> now.</summary>
    private static async Task<double> OpenGaugeAsync(HttpClient http, GatewayProcess gateway, CancellationToken ct) =>
        (await GatewayMetrics.ScrapeAsync(http, gateway.Admin, ct).ConfigureAwait(false)).EgressOpen;

    /// <summary>The median of the sampler's next readings (it reads every 200 ms; one reading per 250 ms here).</summary>
    private static async Task<long> MedianRssAsync(RssSampler rss, CancellationToken ct)
    {
        var readings = new List<double>();
        for (int i = 0; i < EgressBench.RssReadings; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false);
            readings.Add(rss.LastKb);
        }
        return (long)Stats.Median(readings);
    }

    /// <summary>Polls <paramref name="done"/> every 100 ms until it holds or <see cref="SettleTimeout"/> passes (then the figures show how far it got).</summary>
    private static async Task WaitAsync(Func<Task<bool>> done, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (!await done().ConfigureAwait(false) && clock.Elapsed < SettleTimeout)
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
    }
}
