using System.Text;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Metrics;
using AgentPerimeter.Protocol.Audit;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentPerimeter.Gateway.UnitTests.Audit;

/// <summary>
/// The gateway's audit writer on a real directory: rotation with the chain continuing across files,
/// retention, 0600 files, checkpoints that catch a truncated tail, torn last lines, the durability modes.
/// </summary>
public sealed class AuditSeriesTests
{
    private static AuditOptions Options(string dir, Action<AuditOptions>? change = null)
    {
        var options = new AuditOptions
        {
            Path = Path.Combine(dir, "audit.jsonl"),
            CheckpointPath = Path.Combine(dir, "checkpoints.jsonl"),
            CheckpointEveryRecords = 10,
            CheckpointInterval = TimeSpan.FromHours(1),
        };
        change?.Invoke(options);
        return options;
    }

    private static AuditLog Open(AuditOptions options)
    {
        var sinks = new IAuditCheckpointSink[] { new FileCheckpointSink(options.CheckpointPath, NullLogger<FileCheckpointSink>.Instance) };
        return new AuditLog(options, NullLogger<AuditLog>.Instance, new PerimeterMetrics(), TimeProvider.System,
            new AuditCheckpoints(options, TimeProvider.System, sinks));
    }

    private static async Task AppendAsync(AuditLog log, int count, int from = 1)
    {
        for (int i = from; i < from + count; i++)
            Assert.True(await log.AppendAsync(Encoding.UTF8.GetBytes($"\"action_id\":\"act_{i:D6}\",\"phase\":\"single\",\"decision\":\"deny\",\"padding\":\"{new string('x', 100)}\"")));
    }

    private static string NewDir() => Directory.CreateTempSubdirectory("perimeter-series-").FullName;

    [Fact]
    public async Task Rotation_ContinuesTheChainAcrossFiles_AndTheSeriesVerifies()
    {
        var dir = NewDir();
        await using (var log = Open(Options(dir, o => o.MaxFileBytes = 2_000)))
            await AppendAsync(log, 60);

        var files = AuditVerifier.SeriesOf(dir);
        Assert.True(files.Count >= 3, $"expected several files, got {files.Count}");
        Assert.Equal("audit.jsonl", Path.GetFileName(files[^1]));
        var result = AuditVerifier.VerifySeries(files, Path.Combine(dir, "checkpoints.jsonl"));
        Assert.True(result.IsIntact, string.Join("\n", result.Errors));
        Assert.Equal(60, result.Records);
        Assert.Equal(1, result.FirstSeq);
        Assert.Equal(60, result.LastSeq);
        Assert.Equal(6, result.CheckpointsChecked);
        // Each file's first record links the last hash of the file before it.
        Assert.Equal(0, await Cli.Cli.RunAsync(["audit", "verify", dir, "--checkpoints", Path.Combine(dir, "checkpoints.jsonl")]));
    }

    [Fact]
    public async Task RestartAfterRotation_ContinuesTheChain()
    {
        var dir = NewDir();
        var options = Options(dir, o => o.MaxFileBytes = 2_000);
        await using (var log = Open(options))
            await AppendAsync(log, 30);
        await using (var log = Open(options))
            await AppendAsync(log, 30, from: 31);
        var result = AuditVerifier.VerifySeries(AuditVerifier.SeriesOf(dir), null);
        Assert.True(result.IsIntact, string.Join("\n", result.Errors));
        Assert.Equal(60, result.Records);
    }

    [Fact]
    public async Task MissingFileOfTheSeries_IsReported()
    {
        var dir = NewDir();
        await using (var log = Open(Options(dir, o => o.MaxFileBytes = 2_000)))
            await AppendAsync(log, 60);
        var files = AuditVerifier.SeriesOf(dir);
        File.Delete(files[1]);

        var result = AuditVerifier.VerifySeries(AuditVerifier.SeriesOf(dir), null);
        Assert.False(result.IsIntact);
        Assert.Contains(result.Errors, e => e.Contains("a file of the series is missing"));
        Assert.Equal(1, await Cli.Cli.RunAsync(["audit", "verify", dir]));
    }

    [Fact]
    public async Task Retention_KeepsMaxFiles_TheSeriesStillVerifiesFromItsFirstKeptRecord()
    {
        var dir = NewDir();
        await using (var log = Open(Options(dir, o => { o.MaxFileBytes = 2_000; o.MaxFiles = 2; })))
            await AppendAsync(log, 80);
        var files = AuditVerifier.SeriesOf(dir);
        Assert.Equal(3, files.Count); // two rotated files kept, and the active one
        var result = AuditVerifier.VerifySeries(files, null);
        Assert.True(result.IsIntact, string.Join("\n", result.Errors));
        Assert.True(result.FirstSeq > 1);
        Assert.Equal(80, result.LastSeq);
    }

    [Fact]
    public async Task AuditFiles_AreReadableByTheGatewaysUserOnly()
    {
        var dir = NewDir();
        await using (var log = Open(Options(dir, o => o.MaxFileBytes = 2_000)))
            await AppendAsync(log, 30);
        if (OperatingSystem.IsWindows())
            return;
        foreach (var file in Directory.GetFiles(dir))
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task TruncatedTail_IsInvisibleToTheChainAlone_ButNotToTheCheckpoints()
    {
        var dir = NewDir();
        await using (var log = Open(Options(dir)))
            await AppendAsync(log, 50);
        var path = Path.Combine(dir, "audit.jsonl");
        var lines = File.ReadAllLines(path);
        File.WriteAllLines(path, lines[..35]); // someone cut the last 15 records

        Assert.True(AuditVerifier.Verify(path).IsIntact);
        var anchored = AuditVerifier.VerifySeries([path], Path.Combine(dir, "checkpoints.jsonl"));
        Assert.False(anchored.IsIntact);
        Assert.Contains(anchored.Errors, e => e.Contains("checkpoint at sequence 40") && e.Contains("truncated"));
        Assert.Equal(1, await Cli.Cli.RunAsync(["audit", "verify", path, "--checkpoints", Path.Combine(dir, "checkpoints.jsonl")]));
    }

    [Fact]
    public async Task TornLastLine_IsReportedAsACrash_NotAsTampering_WithItsOwnExitCode()
    {
        var dir = NewDir();
        await using (var log = Open(Options(dir)))
            await AppendAsync(log, 5);
        var path = Path.Combine(dir, "audit.jsonl");
        await File.AppendAllTextAsync(path, "{\"seq\":6,\"prev\":\"abc\",\"action_id\":\"act_0000");

        var result = AuditVerifier.Verify(path);
        Assert.True(result.IsIntact, string.Join("\n", result.Errors));
        Assert.NotNull(result.TornTail);
        Assert.Equal(3, await Cli.Cli.RunAsync(["audit", "verify", path]));

        // An edited record before it is still tampering (exit 1), torn tail or not.
        var lines = File.ReadAllLines(path);
        lines[1] = lines[1].Replace("\"deny\"", "\"allow\"");
        File.WriteAllText(path, string.Join("\n", lines));
        Assert.Equal(1, await Cli.Cli.RunAsync(["audit", "verify", path]));

        // Reopened, the writer drops the torn line and continues the chain from record 5.
        File.WriteAllText(path, string.Join("\n", File.ReadAllLines(path)[..5].Select((l, i) => i == 1 ? l.Replace("\"allow\"", "\"deny\"") : l)) + "\n"
            + "{\"seq\":6,\"prev\":\"abc\",\"act");
        await using (var log = Open(Options(dir)))
            await AppendAsync(log, 1, from: 6);
        var reopened = AuditVerifier.Verify(path);
        Assert.True(reopened.IsIntact, string.Join("\n", reopened.Errors));
        Assert.Null(reopened.TornTail);
        Assert.Equal(6, reopened.Records);
    }

    [Fact]
    public async Task WriteMode_HandsEachRecordToTheKernelBeforeTheActionProceeds()
    {
        var dir = NewDir();
        var options = Options(dir, o => { o.Durability = AuditDurability.Write; o.FlushInterval = TimeSpan.FromMilliseconds(5); });
        await using var log = Open(options);
        Assert.Equal(AuditDurability.Write, log.Durability);
        for (int i = 1; i <= 20; i++)
        {
            await AppendAsync(log, 1, from: i);
            // Readable by another process the moment the append completed: it is in the kernel's page cache.
            using var reader = new FileStream(options.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            Assert.Equal(i, new StreamReader(reader).ReadToEnd().Count(c => c == '\n'));
        }
        Assert.True(AuditVerifier.Verify(options.Path).IsIntact);
    }
}
