using System.Globalization;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// Samples a process's resident set (VmRSS in /proc/PID/status) every 200 ms and keeps the largest
/// value seen while <see cref="UnderLoad"/> is set.
/// </summary>
internal sealed class RssSampler : IAsyncDisposable
{
    private readonly string _statusPath;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _maxUnderLoadKb;
    private long _lastKb;

    public RssSampler(int pid)
    {
        _statusPath = $"/proc/{pid}/status";
        _lastKb = Read() ?? 0;
        IdleKb = _lastKb;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Set while a load generator runs against this process.</summary>
    public volatile bool UnderLoad;

    /// <summary>RSS when sampling began (started, no load yet).</summary>
    public long IdleKb { get; }

    public long MaxUnderLoadKb => Interlocked.Read(ref _maxUnderLoadKb);

    public long LastKb => Interlocked.Read(ref _lastKb);

    /// <summary>Runs <paramref name="load"/> with <see cref="UnderLoad"/> set, and samples once more at its end.</summary>
    public async Task<T> MeasureAsync<T>(Func<Task<T>> load)
    {
        UnderLoad = true;
        try
        {
            return await load().ConfigureAwait(false);
        }
        finally
        {
            Sample();
            UnderLoad = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            Sample();
    }

    private void Sample()
    {
        if (Read() is not { } kb)
            return;
        Interlocked.Exchange(ref _lastKb, kb);
        if (!UnderLoad)
            return;
        long current;
        while (kb > (current = Interlocked.Read(ref _maxUnderLoadKb))
               && Interlocked.CompareExchange(ref _maxUnderLoadKb, kb, current) != current)
        {
        }
    }

    private long? Read()
    {
        try
        {
            foreach (var line in File.ReadLines(_statusPath))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
            // The process has exited.
        }
        return null;
    }
}
