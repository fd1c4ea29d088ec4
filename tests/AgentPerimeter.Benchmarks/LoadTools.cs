using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentPerimeter.Benchmarks;

/// <summary>One wrk run: throughput and latency percentiles (milliseconds).</summary>
internal sealed record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors);

/// <summary>One fixed-rate hey run (milliseconds; hey reports 0.1 ms resolution).</summary>
internal sealed record HeyResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Responses, long Non2xx, long Errors);

/// <summary>Runs a short-lived tool to completion; killed (by id) on cancellation or timeout.</summary>
internal static class Tool
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            psi.ArgumentList.Add(argument);

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        ProcessRegistry.Add(process);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ProcessRegistry.Kill(process);
                ct.ThrowIfCancellationRequested();
                throw new TimeoutException($"{fileName} did not finish within {timeout.TotalSeconds:F0} s.");
            }
            return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        finally
        {
            ProcessRegistry.Remove(process);
        }
    }

    /// <summary>
    /// Runs a load generator against <paramref name="url"/> and reads its report with <paramref name="parse"/>; a non-zero
    /// exit, or a report it cannot read, is an error that names the tool and the URL and quotes its output.
    /// </summary>
    public static async Task<T> RunLoadAsync<T>(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, Uri url,
        Func<string, T> parse, CancellationToken ct)
    {
        var (exit, stdout, stderr) = await RunAsync(fileName, arguments, timeout, ct).ConfigureAwait(false);
        if (exit != 0)
            throw new InvalidOperationException($"{fileName} exited with {exit} for {url}: {stderr.Trim()} {stdout.Trim()}");
        try
        {
            return parse(stdout);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"Cannot read {fileName}'s output for {url} ({ex.Message}):{Environment.NewLine}{stdout}{stderr}", ex);
        }
    }
}

internal static partial class Wrk
{
    /// <summary>Runs wrk; <paramref name="script"/> (a Lua file, <c>-s</c>) shapes the request, else it is a GET.</summary>
    public static async Task<WrkResult> RunAsync(Uri url, string token, int seconds, int connections, CancellationToken ct, string? script = null)
    {
        List<string> args =
        [
            "-t1", $"-c{connections}", $"-d{seconds}s", "--latency",
            "-H", $"Authorization: Bearer {token}",
        ];
        if (script is not null)
            args.AddRange(["-s", script]);
        args.Add(url.ToString());
        return await Tool.RunLoadAsync("wrk", args, TimeSpan.FromSeconds(seconds + 30), url, Parse, ct).ConfigureAwait(false);
    }

    /// <summary>Reads wrk 4's <c>--latency</c> report.</summary>
    public static WrkResult Parse(string output)
    {
        var rps = RequestsPerSecond().Match(output);
        var requests = RequestCount().Match(output);
        if (!rps.Success || !requests.Success)
            throw new FormatException("no Requests/sec or request count");

        double? p50 = null, p99 = null;
        foreach (Match m in Percentile().Matches(output))
        {
            var ms = ToMilliseconds(m.Groups["value"].Value, m.Groups["unit"].Value);
            if (m.Groups["pct"].Value == "50")
                p50 = ms;
            else if (m.Groups["pct"].Value == "99")
                p99 = ms;
        }
        if (p50 is null || p99 is null)
            throw new FormatException("no 50%/99% latency distribution (was --latency passed?)");

        long non2xx = 0, socketErrors = 0;
        if (Non2xx().Match(output) is { Success: true } n)
            non2xx = long.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture);
        if (SocketErrorsLine().Match(output) is { Success: true } s)
            socketErrors = Enumerable.Range(1, 4).Sum(i => long.Parse(s.Groups[i].Value, CultureInfo.InvariantCulture));

        return new WrkResult(
            double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), p50.Value, p99.Value,
            long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture), non2xx, socketErrors);
    }

    private static double ToMilliseconds(string value, string unit)
    {
        var v = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch
        {
            "us" => v / 1000,
            "ms" => v,
            "s" => v * 1000,
            "m" => v * 60_000,
            "h" => v * 3_600_000,
            _ => throw new FormatException($"unknown time unit '{unit}'"),
        };
    }

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*(\d+) requests in ", RegexOptions.Multiline)]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"^\s*(?<pct>\d+)(?:\.0+)?%\s+(?<value>[\d.]+)(?<unit>us|ms|s|m|h)\s*$", RegexOptions.Multiline)]
    private static partial Regex Percentile();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();
}

internal static partial class Hey
{
    /// <summary>Runs hey; with <paramref name="mcp"/> every request is the MCP <c>tools/call</c> POST, else a GET.</summary>
    public static async Task<HeyResult> RunAsync(Uri url, string token, int seconds, int workers, int qpsPerWorker, CancellationToken ct, bool mcp = false)
    {
        List<string> args =
        [
            "-z", $"{seconds}s", "-c", workers.ToString(CultureInfo.InvariantCulture), "-q", qpsPerWorker.ToString(CultureInfo.InvariantCulture),
            "-H", $"Authorization: Bearer {token}",
        ];
        if (mcp)
            args.AddRange(["-m", "POST", "-T", McpBench.ContentType, "-H", $"Accept: {McpBench.Accept}", "-d", McpBench.ToolCallBody]);
        args.Add(url.ToString());
        return await Tool.RunLoadAsync("hey", args, TimeSpan.FromSeconds(seconds + 60), url, Parse, ct).ConfigureAwait(false);
    }

    /// <summary>Reads hey's summary: Requests/sec, the latency distribution and the status/error sections.</summary>
    public static HeyResult Parse(string output)
    {
        var rps = RequestsPerSecond().Match(output);
        if (!rps.Success)
            throw new FormatException("no Requests/sec");

        double? p50 = null, p99 = null;
        foreach (Match m in Percentile().Matches(output))
        {
            var ms = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture) * 1000;
            if (m.Groups["pct"].Value == "50")
                p50 = ms;
            else if (m.Groups["pct"].Value == "99")
                p99 = ms;
        }
        if (p50 is null || p99 is null)
            throw new FormatException("no 50%/99% latency distribution (did any request succeed?)");

        long responses = 0, non2xx = 0;
        foreach (Match m in StatusLine().Matches(output))
        {
            var count = long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture);
            responses += count;
            if (m.Groups["status"].Value[0] != '2')
                non2xx += count;
        }

        long errors = 0;
        var errorSection = output.IndexOf("Error distribution:", StringComparison.Ordinal);
        if (errorSection >= 0)
        {
            foreach (Match m in ErrorLine().Matches(output[errorSection..]))
                errors += long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return new HeyResult(double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), p50.Value, p99.Value, responses, non2xx, errors);
    }

    [GeneratedRegex(@"^\s*Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"^\s*(?<pct>\d+)%+ in (?<value>[\d.]+) secs", RegexOptions.Multiline)]
    private static partial Regex Percentile();

    [GeneratedRegex(@"^\s*\[(?<status>\d{3})\]\s+(?<count>\d+) responses", RegexOptions.Multiline)]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^\s*\[(\d+)\]\s", RegexOptions.Multiline)]
    private static partial Regex ErrorLine();
}
