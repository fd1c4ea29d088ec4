using System.Collections.Concurrent;
using System.Text;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// Masks the exact secret values the gateway holds wherever text leaves it: responses (headers,
/// bodies, SSE), audit records, logs, exception texts. It knows every value it loaded or injected
/// (old values stay known after a rotation, since an upstream may still echo them).
/// </summary>
public sealed class SecretScrubber
{
    public const string Mask = "[REDACTED]";
    private readonly ConcurrentDictionary<string, string> _values = new(StringComparer.Ordinal); // value → secret name
    private volatile Entry[] _entries = [];
    private volatile int _maxBytes;

    private sealed record Entry(string Name, string Value, byte[] Utf8);

    /// <summary>The longest value in bytes: how much a stream must hold back so nothing straddles a chunk.</summary>
    public int MaxValueBytes => _maxBytes;

    public bool IsEmpty => _entries.Length == 0;

    public void Remember(string name, string value)
    {
        // Very short values would mask ordinary text everywhere; secrets are not that short.
        if (value.Length < 4 || !_values.TryAdd(value, name))
            return;
        lock (_values)
        {
            _entries = [.. _values.Select(p => new Entry(p.Value, p.Key, Encoding.UTF8.GetBytes(p.Key))).OrderByDescending(e => e.Utf8.Length)];
            _maxBytes = _entries.Length == 0 ? 0 : _entries.Max(e => e.Utf8.Length);
        }
    }

    public string? Scrub(string? text)
    {
        if (text is null)
            return null;
        foreach (var e in _entries)
        {
            if (text.Contains(e.Value, StringComparison.Ordinal))
                text = text.Replace(e.Value, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    public bool Contains(string text)
    {
        foreach (var e in _entries)
        {
            if (text.Contains(e.Value, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Scrubs <paramref name="data"/>; returns the bytes safe to emit and leaves in <paramref name="data"/>'s
    /// place the tail that could still be the start of a value (unless <paramref name="final"/>).
    /// </summary>
    public byte[] ScrubChunk(List<byte> pending, bool final, out int keptBack)
    {
        var entries = _entries;
        var buffer = pending.ToArray();
        var output = new List<byte>(buffer.Length);
        int i = 0;
        int safeEnd = final ? buffer.Length : Math.Max(0, buffer.Length - (_maxBytes - 1));
        while (i < buffer.Length)
        {
            bool matched = false;
            foreach (var e in entries)
            {
                var v = e.Utf8;
                if (i + v.Length <= buffer.Length && buffer.AsSpan(i, v.Length).SequenceEqual(v))
                {
                    output.AddRange(Encoding.ASCII.GetBytes(Mask));
                    i += v.Length;
                    matched = true;
                    break;
                }
            }
            if (matched)
                continue;
            if (i >= safeEnd)
                break; // this byte may begin a value that continues in the next chunk
            output.Add(buffer[i]);
            i++;
        }
        keptBack = buffer.Length - i;
        pending.RemoveRange(0, i);
        return [.. output];
    }
}
