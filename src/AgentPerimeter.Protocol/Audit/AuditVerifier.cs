using System.Text.Json;

namespace AgentPerimeter.Protocol.Audit;

/// <summary>Verifies the hash chain of an audit log file (<c>perimeter audit verify</c>, the demo, the tests).</summary>
public static class AuditVerifier
{
    /// <summary>Reads the whole log and reports every break of its chain, up to <paramref name="maxErrors"/>.</summary>
    public static AuditVerification Verify(string path, int maxErrors = 50)
    {
        var errors = new List<string>();
        long expectedSeq = 0;
        string prev = AuditChain.Genesis;
        long lineNo = 0;
        long records = 0;
        bool first = true;

        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (errors.Count >= maxErrors)
                break;
            if (line.Length == 0)
            {
                errors.Add($"line {lineNo}: empty line");
                continue;
            }
            var split = AuditChain.Split(line);
            if (split is null)
            {
                errors.Add($"line {lineNo}: not an audit record (no trailing hash field)");
                continue;
            }
            var (body, statedHash) = split.Value;
            long seq;
            string? statedPrev;
            try
            {
                using var doc = JsonDocument.Parse(body);
                seq = doc.RootElement.GetProperty("seq").GetInt64();
                statedPrev = doc.RootElement.GetProperty("prev").GetString();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                errors.Add($"line {lineNo}: malformed record ({ex.GetType().Name})");
                continue;
            }

            if (first)
            {
                // A log may start mid-chain only if it was rotated; a fresh log starts at seq 1 from genesis.
                first = false;
                expectedSeq = seq;
                if (seq == 1 && statedPrev != AuditChain.Genesis)
                    errors.Add($"line {lineNo}: first record does not chain from genesis");
                prev = statedPrev ?? "";
            }

            if (seq != expectedSeq)
                errors.Add($"line {lineNo}: sequence {seq}, expected {expectedSeq} (records deleted, reordered or inserted)");
            if (statedPrev != prev)
                errors.Add($"line {lineNo}: 'prev' does not match the hash of the previous record (chain broken)");
            var actual = AuditChain.Hash(body);
            if (actual != statedHash)
                errors.Add($"line {lineNo}: hash mismatch (record edited)");

            prev = statedHash;
            expectedSeq = seq + 1;
            records++;
        }

        return new AuditVerification(records, errors, records > 0 ? prev : null);
    }
}
