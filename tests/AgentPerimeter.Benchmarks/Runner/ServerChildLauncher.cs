namespace AgentPerimeter.Benchmarks;

/// <summary>Starts this benchmark's own executable as a server child (<c>serve-yarp</c>, <c>serve-mcp</c>).</summary>
internal static class ServerChildLauncher
{
    /// <summary>Starts the child and waits (up to 30 s) for the address it prints on its <c>LISTENING</c> line.</summary>
    public static async Task<(ChildProcess Child, Uri Uri)> StartAsync(string name, string dotnet, string[] command, string workDir, CancellationToken ct)
    {
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var benchDll = Path.Combine(AppContext.BaseDirectory, "AgentPerimeter.Benchmarks.dll");
        var child = ChildProcess.Start(name, dotnet, [benchDll, .. command], workDir, line =>
        {
            if (line.StartsWith(Servers.ListeningPrefix, StringComparison.Ordinal))
                listening.TrySetResult(new Uri(line[Servers.ListeningPrefix.Length..].Trim()));
        });
        await WaitAsync(child, listening.Task, ct).ConfigureAwait(false);
        if (!listening.Task.IsCompleted)
        {
            var tail = child.Tail();
            await child.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"{name} did not start:{Environment.NewLine}{tail}");
        }
        return (child, await listening.Task.ConfigureAwait(false));
    }

    /// <summary>Until the child prints its address, exits, or 30 s pass; woken at once by the address.</summary>
    private static async Task WaitAsync(ChildProcess child, Task listening, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!listening.IsCompleted)
        {
            if (child.HasExited)
                return;
            try
            {
                await Task.WhenAny(listening, Task.Delay(100, timeout.Token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ct.ThrowIfCancellationRequested();
                return;
            }
        }
    }
}
