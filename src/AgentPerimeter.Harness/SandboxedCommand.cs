using System.Diagnostics;
using System.Text;

namespace AgentPerimeter.Harness;

/// <summary>
/// The <c>run_command</c> tool: a shell command run by <c>perimeter sandbox run</c> in a network namespace
/// whose only way out is the gateway's egress proxy, with this session's token as its proxy credentials.
/// Its connections are the gateway's egress actions — decided by the work type's egress rules, recorded,
/// counted — so the command is not reported as an ungoverned local action. The token reaches the sandbox
/// through a 0600 file, never a command line.
/// </summary>
internal sealed class SandboxedCommand(HarnessOptions options)
{
    public const string ToolName = "run_command";
    private const int MaxOutputChars = 16 * 1024;

    /// <summary>Exit codes of <c>perimeter sandbox run</c> meaning the command did not run at all.</summary>
    private static readonly HashSet<int> NotRun = [64, 69, 70];

    public async Task<(bool Ran, int ExitCode, string Output)> RunAsync(string agent, string token, string command, CancellationToken cancellationToken)
    {
        var tokenFile = Path.Combine(Path.GetTempPath(), $"perimeter-sandbox-{Guid.NewGuid():N}.token");
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var file = new FileStream(tokenFile, fileOptions))
            await file.WriteAsync(Encoding.UTF8.GetBytes(token), cancellationToken).ConfigureAwait(false);
        try
        {
            var cli = options.PerimeterCli;
            var info = cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new ProcessStartInfo("dotnet") { ArgumentList = { cli } } : new ProcessStartInfo(cli);
            foreach (var arg in (string[])["sandbox", "run", "--agent", agent, "--token-file", tokenFile, "--egress-socket", options.SandboxEgressSocket!, "--", "sh", "-c", command])
                info.ArgumentList.Add(arg);
            info.RedirectStandardOutput = info.RedirectStandardError = true;
            info.RedirectStandardInput = true;
            info.Environment.Remove("PERIMETER_ADMIN_TOKEN");
            info.Environment.Remove("PERIMETER_SESSION_TOKEN");
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start '{cli}'");
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
            if (output.Length > MaxOutputChars)
                output = output[..MaxOutputChars] + "\n…[output truncated]";
            return (!NotRun.Contains(process.ExitCode), process.ExitCode, output.Replace(token, "[token]", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }
}
