using System.Text.Json;

namespace AgentPerimeter.Protocol.Audit;

/// <summary>
/// Verifies the hash chain of an audit log — one file, or a whole rotated series — and, given the
/// checkpoints kept off the log, that its tail was not cut off (<c>perimeter audit verify</c>, the demo,
/// the tests).
/// </summary>
public static class AuditVerifier
{
    /// <summary>Verifies one file (or, for a directory, its whole series).</summary>
    public static AuditVerification Verify(string path, int maxErrors = 50) =>
        VerifySeries(SeriesOf(path), checkpointsFile: null, maxErrors);

    /// <summary>
    /// The files to verify for <paramref name="path"/>: a file alone, or every <c>*.jsonl</c> audit file of
    /// a directory in series order — rotated files (<c>NAME.000000000001.jsonl</c>, by their first sequence
    /// number), then the active file (<c>NAME.jsonl</c>).
    /// </summary>
    public static IReadOnlyList<string> SeriesOf(string path)
    {
        if (!Directory.Exists(path))
            return [path];
        var files = Directory.GetFiles(path, "*.jsonl")
            .Where(f => !Path.GetFileName(f).Contains("checkpoint", StringComparison.OrdinalIgnoreCase))
            .ToList();
        // Rotated files carry a 12-digit first sequence number before the extension; the active file none.
        static bool Rotated(string f) => Path.GetFileNameWithoutExtension(f) is var n && n.Length > 13 && n[^13] == '.' && n[^12..].All(char.IsAsciiDigit);
        return [.. files.Where(Rotated).Order(StringComparer.Ordinal), .. files.Where(f => !Rotated(f)).Order(StringComparer.Ordinal)];
    }

    /// <summary>Verifies a series of files as one chain, and the checkpoints in <paramref name="checkpointsFile"/> against it.</summary>
    public static AuditVerification VerifySeries(IReadOnlyList<string> files, string? checkpointsFile, int maxErrors = 50)
    {
        var state = new State(maxErrors);
        if (checkpointsFile is not null)
            state.Wanted = [.. CheckpointSeqs(checkpointsFile)];
        for (int i = 0; i < files.Count; i++)
            VerifyFile(files[i], last: i == files.Count - 1, named: files.Count > 1, state);
        if (checkpointsFile is not null)
            CheckCheckpoints(checkpointsFile, state);
        return new AuditVerification(state.Records, state.Errors, state.Records > 0 ? state.Prev : null)
        {
            TornTail = state.TornTail,
            Files = files.Count,
            FirstSeq = state.FirstSeq,
            LastSeq = state.Records > 0 ? state.ExpectedSeq - 1 : 0,
            OpenIntents = [.. state.OpenIntents.Keys.Order(StringComparer.Ordinal)],
            UnknownOutcomes = [.. state.UnknownOutcomes],
            CheckpointsChecked = state.CheckpointsChecked,
        };
    }

    private static void VerifyFile(string path, bool last, bool named, State state)
    {
        var name = Path.GetFileName(path);
        bool endsWithNewline = EndsWithNewline(path);
        var lines = File.ReadAllLines(path);
        bool firstOfFile = true;
        for (int lineNo = 1; lineNo <= lines.Length; lineNo++)
        {
            if (state.Errors.Count >= state.MaxErrors)
                return;
            var line = lines[lineNo - 1];
            var where = named ? $"{name} line {lineNo}" : $"line {lineNo}";
            bool lastLine = lineNo == lines.Length;
            // A crash mid-write leaves a partial last line with no newline: a torn tail, not an edit.
            if (last && lastLine && !endsWithNewline)
            {
                if (AuditChain.Split(line) is null || !Parses(line))
                {
                    state.TornTail = $"{where}: the last line is incomplete ({line.Length} bytes, no newline): a write cut short by a crash";
                    return;
                }
            }
            if (line.Length == 0)
            {
                state.Errors.Add($"{where}: empty line");
                continue;
            }
            var split = AuditChain.Split(line);
            if (split is null)
            {
                state.Errors.Add($"{where}: not an audit record (no trailing hash field)");
                continue;
            }
            var (body, statedHash) = split.Value;
            long seq;
            string? statedPrev;
            JsonElement record;
            try
            {
                using var doc = JsonDocument.Parse(body);
                record = doc.RootElement.Clone();
                seq = record.GetProperty("seq").GetInt64();
                statedPrev = record.GetProperty("prev").GetString();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                state.Errors.Add($"{where}: malformed record ({ex.GetType().Name})");
                continue;
            }

            if (state.Records == 0 && firstOfFile)
            {
                // A series may start mid-chain only when retention removed older files; a fresh log starts at seq 1 from genesis.
                state.ExpectedSeq = seq;
                state.FirstSeq = seq;
                if (seq == 1 && statedPrev != AuditChain.Genesis)
                    state.Errors.Add($"{where}: first record does not chain from genesis");
                state.Prev = statedPrev ?? "";
            }
            else if (firstOfFile && (seq != state.ExpectedSeq || statedPrev != state.Prev))
            {
                state.Errors.Add($"{where}: the file starts at sequence {seq}, but the previous file ends at {state.ExpectedSeq - 1}" +
                    (seq > state.ExpectedSeq ? " (a file of the series is missing)" : " (files out of order, or a file was replaced)"));
                state.Prev = statedHash;
                state.ExpectedSeq = seq + 1;
                state.Records++;
                firstOfFile = false;
                continue;
            }
            firstOfFile = false;

            if (seq != state.ExpectedSeq)
                state.Errors.Add($"{where}: sequence {seq}, expected {state.ExpectedSeq} (records deleted, reordered or inserted)");
            if (statedPrev != state.Prev)
                state.Errors.Add($"{where}: 'prev' does not match the hash of the previous record (chain broken)");
            if (AuditChain.Hash(body) != statedHash)
                state.Errors.Add($"{where}: hash mismatch (record edited)");

            if (state.Wanted?.Contains(seq) == true)
                state.Hashes[seq] = statedHash;
            Track(record, state);
            state.Prev = statedHash;
            state.ExpectedSeq = seq + 1;
            state.Records++;
        }
    }

    /// <summary>Intents still open at the end, and the outcome_unknown records a restart wrote.</summary>
    private static void Track(JsonElement record, State state)
    {
        if (!record.TryGetProperty("phase", out var phase) || !record.TryGetProperty("action_id", out var idElement) || idElement.GetString() is not { } id)
            return;
        if (phase.GetString() == "intent")
        {
            state.OpenIntents[id] = true;
            return;
        }
        state.OpenIntents.Remove(id);
        if (record.TryGetProperty("outcome", out var outcome) && outcome.GetString() == "outcome_unknown")
            state.UnknownOutcomes.Add(id);
    }

    private static void CheckCheckpoints(string file, State state)
    {
        foreach (var (line, lineNo) in File.ReadLines(file).Select((l, i) => (l, i + 1)))
        {
            if (line.Length == 0)
                continue;
            long seq;
            string? hash;
            try
            {
                using var doc = JsonDocument.Parse(line);
                seq = doc.RootElement.GetProperty("seq").GetInt64();
                hash = doc.RootElement.GetProperty("hash").GetString();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                state.Errors.Add($"checkpoints line {lineNo}: not a checkpoint ({ex.GetType().Name})");
                continue;
            }
            state.CheckpointsChecked++;
            if (seq >= state.ExpectedSeq)
                state.Errors.Add($"checkpoint at sequence {seq}: the log ends at {state.ExpectedSeq - 1} — its tail was truncated (records {state.ExpectedSeq}..{seq} at least are gone)");
            else if (state.Hashes.TryGetValue(seq, out var actual) && actual != hash)
                state.Errors.Add($"checkpoint at sequence {seq}: the log's record {seq} has another hash (rewritten after the checkpoint)");
        }
    }

    private static IEnumerable<long> CheckpointSeqs(string file)
    {
        foreach (var line in File.ReadLines(file))
        {
            long? seq = null;
            try
            {
                using var doc = JsonDocument.Parse(line);
                seq = doc.RootElement.GetProperty("seq").GetInt64();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
            }
            if (seq is { } s)
                yield return s;
        }
    }

    private static bool Parses(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool EndsWithNewline(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length == 0)
            return true;
        stream.Seek(-1, SeekOrigin.End);
        return stream.ReadByte() == '\n';
    }

    private sealed class State(int maxErrors)
    {
        public int MaxErrors { get; } = maxErrors;
        public List<string> Errors { get; } = [];
        public Dictionary<long, string> Hashes { get; } = [];
        public Dictionary<string, bool> OpenIntents { get; } = new(StringComparer.Ordinal);
        public List<string> UnknownOutcomes { get; } = [];
        public long ExpectedSeq { get; set; }
        public long FirstSeq { get; set; }
        public string Prev { get; set; } = AuditChain.Genesis;
        public long Records { get; set; }
        public string? TornTail { get; set; }
        public int CheckpointsChecked { get; set; }
        /// <summary>The sequence numbers checkpoints name: only their hashes are kept while reading.</summary>
        public HashSet<long>? Wanted { get; set; }
    }
}
