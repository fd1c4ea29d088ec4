using System.Text.Json;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>Finds intent records with no outcome: actions a stopped gateway left in flight.</summary>
internal static class AuditRecovery
{
    /// <summary>The intents with no later outcome in the last two files of the series (an action spans at most one rotation).</summary>
    public static IReadOnlyList<OpenIntent> OpenIntents(IReadOnlyList<string> seriesFiles)
    {
        var open = new Dictionary<string, OpenIntent>(StringComparer.Ordinal);
        foreach (var file in seriesFiles.Skip(Math.Max(0, seriesFiles.Count - 2)))
        {
            // Only what the file holds now: a device or pipe (a log shipper's FIFO, /dev/full) has no past to read.
            long length = new FileInfo(file).Length;
            if (length == 0)
                continue;
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(new BoundedStream(stream, length));
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0 || AuditChain.Split(line) is not { } split)
                    continue;
                using var doc = JsonDocument.Parse(split.Body);
                var r = doc.RootElement;
                if (!r.TryGetProperty("phase", out var phase) || r.GetProperty("action_id").GetString() is not { } id)
                    continue;
                if (phase.GetString() == AuditPhases.Intent)
                    open[id] = new OpenIntent(id, r.Clone());
                else
                    open.Remove(id);
            }
        }
        return [.. open.Values];
    }
}
