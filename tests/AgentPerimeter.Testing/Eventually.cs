using System.Diagnostics;

namespace AgentPerimeter.Testing;

/// <summary>
/// The one way a test waits for something that happens on its own schedule (a file watcher, a
/// reconnect, a scrape, a child process): poll the condition itself until a deadline, then fail
/// saying what never happened. Never a fixed sleep: a sleep is too long on a fast machine and too
/// short on a loaded one.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; fails the test once <paramref name="timeout"/> has
    /// passed, with <paramref name="because"/> (what was awaited) and, if given, <paramref name="details"/>
    /// (read at the moment of failure, e.g. a child process's output).
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string because, Func<string>? details = null)
    {
        if (!await WithinAsync(condition, timeout))
        {
            var message = $"Not so within {timeout.TotalSeconds:0.###} s: {because}";
            Assert.Fail(details is null ? message : $"{message}\n{details()}");
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, TimeSpan, string, Func{string}?)"/>
    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string because, Func<string>? details = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, because, details);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> has passed, and says
    /// which: for what may rightly never happen (the test decides what that means).
    /// </summary>
    public static async Task<bool> WithinAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var pause = FirstPause;
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
                return false;
            await Task.Delay(pause);
            pause = pause * 2 < LongestPause ? pause * 2 : LongestPause;
        }
        return true;
    }

    /// <inheritdoc cref="WithinAsync(Func{Task{bool}}, TimeSpan)"/>
    public static Task<bool> WithinAsync(Func<bool> condition, TimeSpan timeout) =>
        WithinAsync(() => Task.FromResult(condition()), timeout);
}
