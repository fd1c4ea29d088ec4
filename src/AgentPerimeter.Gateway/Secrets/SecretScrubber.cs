using System.Buffers;
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

    /// <summary>Learns a value and the forms it takes when re-encoded (JSON-escaped, percent-encoded).</summary>
    public void Remember(string name, string value)
    {
        RememberExact(name, value);
        var json = System.Text.Json.JsonEncodedText.Encode(value).ToString();
        if (json != value)
            RememberExact(name, json);
        var url = Uri.EscapeDataString(value);
        if (url != value)
            RememberExact(name, url);
    }

    private void RememberExact(string name, string value)
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
    /// Scrubs <paramref name="data"/> into <paramref name="output"/> and returns how many bytes were
    /// consumed. Unless <paramref name="final"/>, a tail that could be the start of a value continuing
    /// in the next chunk is left unconsumed for the caller to prepend to it. Vectorized
    /// <c>IndexOf</c> per value: a chunk without secrets costs one scan per value.
    /// </summary>
    public int ScrubChunk(ReadOnlySpan<byte> data, bool final, System.Buffers.IBufferWriter<byte> output)
    {
        var entries = _entries;
        int pos = 0;
        while (true)
        {
            int best = -1;
            Entry? hit = null;
            foreach (var e in entries)
            {
                int at = data[pos..].IndexOf(e.Utf8);
                if (at >= 0 && (best < 0 || at < best))
                {
                    best = at;
                    hit = e;
                }
            }
            if (hit is null)
                break;
            output.Write(data.Slice(pos, best));
            output.Write(MaskBytes);
            pos += best + hit.Utf8.Length;
        }
        int safeEnd = final ? data.Length : Math.Max(pos, data.Length - (_maxBytes - 1));
        output.Write(data[pos..safeEnd]);
        return safeEnd;
    }

    private static readonly byte[] MaskBytes = Encoding.ASCII.GetBytes(Mask);
}
