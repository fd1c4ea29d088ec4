using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentPerimeter.Harness;

/// <summary>
/// The session's write-ahead journal: one JSON object per line, appended and flushed to the device
/// before the step it describes goes ahead (a tool call's intent before the call is sent, its outcome
/// after). <c>resume</c> rebuilds the session from it (<see cref="JournalReplay"/>).
/// </summary>
public sealed class Journal : IDisposable
{
    private readonly FileStream _file;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    private Journal(string path, FileStream file, TimeProvider time)
    {
        Path = path;
        _file = file;
        _time = time;
    }

    public string Path { get; }

    public static string PathFor(string directory, string sessionId) => System.IO.Path.Combine(directory, sessionId + ".jsonl");

    /// <summary>Opens (or creates) a journal for appending; entries are stamped with <paramref name="time"/>.</summary>
    public static Journal Open(string path, TimeProvider time)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // arguments and results are private
        var file = new FileStream(path, options);
        // A crash can leave a torn last line: cut it, so the next entry starts on a line of its own.
        long end = file.Length;
        if (end > 0)
        {
            var one = new byte[1];
            while (end > 0)
            {
                file.Position = end - 1;
                file.ReadExactly(one);
                if (one[0] == (byte)'\n')
                    break;
                end--;
            }
            file.SetLength(end);
        }
        file.Position = end;
        return new Journal(path, file, time);
    }

    /// <summary>Appends an entry and makes it durable (fsync) before returning.</summary>
    public void Append(string type, JsonObject entry)
    {
        entry["type"] = type;
        entry["time"] = _time.GetUtcNow().ToString("O");
        var line = System.Text.Encoding.UTF8.GetBytes(entry.ToJsonString() + "\n");
        lock (_lock)
        {
            _file.Write(line);
            _file.Flush(flushToDisk: true);
        }
    }

    /// <summary>Every complete entry of a journal (a torn last line from a crash is ignored).</summary>
    public static List<JsonObject> Read(string path)
    {
        var entries = new List<JsonObject>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
                continue;
            try
            {
                if (JsonNode.Parse(line) is JsonObject entry)
                    entries.Add(entry);
            }
            catch (JsonException)
            {
                break;
            }
        }
        return entries;
    }

    public void Dispose() => _file.Dispose();
}
