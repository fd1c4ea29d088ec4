using AgentPerimeter.Protocol.Audit;

namespace AgentPerimeter.Cli;

/// <summary>
/// <c>perimeter audit verify FILE|DIR [--checkpoints FILE]</c>. Exit codes: 0 intact; 1 tampered (a record
/// edited, removed, reordered or inserted, a file of the series missing or out of order, or the tail cut off
/// below a checkpoint); 3 intact except a torn last line (a write cut short by a crash); 64 usage.
/// </summary>
internal static class AuditCommand
{
    public const int Tampered = 1;
    public const int TornTail = 3;

    public static int Verify(Args args)
    {
        if (args.Positionals.Count != 1)
            throw new ArgsException("usage: perimeter audit verify FILE|DIR [--checkpoints FILE]");
        var path = args.Positionals[0];
        if (!File.Exists(path) && !Directory.Exists(path))
            return Cli.Fail($"audit log '{path}' does not exist.");
        var checkpoints = args.Get("checkpoints");
        if (checkpoints is not null && !File.Exists(checkpoints))
            return Cli.Fail($"checkpoint file '{checkpoints}' does not exist.");
        var files = AuditVerifier.SeriesOf(path);
        if (files.Count == 0)
            return Cli.Fail($"'{path}' holds no audit file (*.jsonl).");
        var result = AuditVerifier.VerifySeries(files, checkpoints);

        var series = files.Count == 1 ? "" : $" in {files.Count} files (sequence {result.FirstSeq}..{result.LastSeq})";
        var anchored = checkpoints is null ? "" : $", {result.CheckpointsChecked} checkpoint(s) match";
        if (!result.IsIntact)
        {
            Console.Error.WriteLine($"{path}: TAMPERED — {result.Errors.Count} problem(s) in {result.Records} records{series}:");
            foreach (var e in result.Errors)
                Console.Error.WriteLine($"  - {e}");
            return Tampered;
        }
        Console.Out.WriteLine($"{path}: OK — {result.Records} records{series}, chain intact{anchored}, last hash {result.LastHash ?? "(empty log)"}");
        if (result.UnknownOutcomes.Count > 0)
            Console.Out.WriteLine($"  {result.UnknownOutcomes.Count} action(s) recorded as outcome_unknown (the gateway stopped while they were in flight): {string.Join(", ", result.UnknownOutcomes.Take(10))}{(result.UnknownOutcomes.Count > 10 ? ", …" : "")}");
        if (result.OpenIntents.Count > 0)
            Console.Out.WriteLine($"  {result.OpenIntents.Count} action(s) with an intent and no outcome yet (in flight, or the gateway has not restarted since it stopped): {string.Join(", ", result.OpenIntents.Take(10))}{(result.OpenIntents.Count > 10 ? ", …" : "")}");
        if (result.TornTail is { } torn)
        {
            Console.Error.WriteLine($"{path}: TORN — {torn}. The records before it are intact; the gateway drops the torn line when it next opens the log.");
            return TornTail;
        }
        return 0;
    }
}
