using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// Masks the secret values the gateway holds wherever text leaves it: responses (headers, bodies,
/// SSE), audit records, logs, exception texts. It knows every value it loaded or injected (old values
/// stay known after a rotation, since an upstream may still echo them), and finds each in every form a
/// standard decoder turns back into it: literal, any JSON string escape of any subset of its
/// characters (<c>\u0061</c> or <c>\u0041</c> in either hex case, <c>\/</c>, ...), and percent-encoding
/// of any subset of its bytes in either case. Text with no <c>\</c> or <c>%</c> takes the exact,
/// vectorized path alone.
/// </summary>
public sealed class SecretScrubber
{
    public const string Mask = "[REDACTED]";
    private readonly ConcurrentDictionary<string, string> _values = new(StringComparer.Ordinal); // value → secret name
    private volatile Entry[] _entries = [];
    private volatile int _maxBytes;

    private readonly HashSet<string> _decodable = new(StringComparer.Ordinal);
    private volatile Secret[] _secrets = [];
    private volatile int _maxEncodedBytes;

    private sealed record Entry(string Name, string Value, byte[] Utf8);

    /// <summary>A value as runes, for matching its escaped and percent-encoded spellings.</summary>
    private sealed record Secret(Rune[] Runes, byte FirstLiteral, int MaxEncodedBytes);

    /// <summary>The longest spelling of a value in bytes: how much a stream must hold back so nothing straddles a chunk.</summary>
    public int MaxValueBytes => Math.Max(_maxBytes, _maxEncodedBytes);

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>Learns a value and the forms it takes when re-encoded (JSON-escaped, percent-encoded).</summary>
    public void Remember(string name, string value)
    {
        RememberExact(name, value);
        if (value.Length >= 4)
        {
            lock (_values)
            {
                if (_decodable.Add(value))
                {
                    var runes = value.EnumerateRunes().ToArray();
                    Span<byte> first = stackalloc byte[4];
                    runes[0].EncodeToUtf8(first);
                    // The longest spelling: each rune as \u escapes (6 bytes per UTF-16 unit) or %XX per UTF-8 byte.
                    int max = runes.Sum(r => Math.Max(6 * r.Utf16SequenceLength, 3 * r.Utf8SequenceLength));
                    _secrets = [.. _secrets, new Secret(runes, first[0], max)];
                    _maxEncodedBytes = Math.Max(_maxEncodedBytes, max);
                }
            }
        }
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
        if (text.AsSpan().IndexOfAny('\\', '%') >= 0 && _secrets.Length > 0)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            if (FindEncoded(bytes, _secrets).Start < 0)
                return ScrubExact(text);
            var output = new System.Buffers.ArrayBufferWriter<byte>(bytes.Length);
            ScrubChunk(bytes, final: true, output);
            return Encoding.UTF8.GetString(output.WrittenSpan);
        }
        return ScrubExact(text);
    }

    private string ScrubExact(string text)
    {
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
        return text.AsSpan().IndexOfAny('\\', '%') >= 0 && _secrets.Length > 0 && FindEncoded(Encoding.UTF8.GetBytes(text), _secrets).Start >= 0;
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
        var secrets = _secrets;
        // Escapes and percent-encoding only where the chunk has a '\' or '%' at all.
        bool encoded = secrets.Length > 0 && data.IndexOfAny((byte)'\\', (byte)'%') >= 0;
        int pos = 0;
        while (true)
        {
            int best = -1, length = 0;
            foreach (var e in entries)
            {
                int at = data[pos..].IndexOf(e.Utf8);
                if (at >= 0 && (best < 0 || at < best))
                {
                    best = at;
                    length = e.Utf8.Length;
                }
            }
            if (encoded)
            {
                var (at, len) = FindEncoded(data[pos..], secrets, best);
                if (at >= 0 && (best < 0 || at < best || (at == best && len > length)))
                {
                    best = at;
                    length = len;
                }
            }
            if (best < 0)
                break;
            output.Write(data.Slice(pos, best));
            output.Write(MaskBytes);
            pos += best + length;
        }
        int safeEnd = final ? data.Length : Math.Max(pos, data.Length - (MaxValueBytes - 1));
        output.Write(data[pos..safeEnd]);
        return safeEnd;
    }

    private static readonly byte[] MaskBytes = Encoding.ASCII.GetBytes(Mask);

    /// <summary>The earliest spelling of any value in <paramref name="data"/> (before <paramref name="before"/> when given): start and length, or (-1, 0).</summary>
    private static (int Start, int Length) FindEncoded(ReadOnlySpan<byte> data, Secret[] secrets, int before = -1)
    {
        int best = before, bestLength = 0;
        bool found = false;
        foreach (var secret in secrets)
        {
            int p = 0;
            while (p < data.Length)
            {
                int at = data[p..].IndexOfAny(secret.FirstLiteral, (byte)'\\', (byte)'%');
                if (at < 0)
                    break;
                at += p;
                if (best >= 0 && at > best)
                    break;
                int length = MatchAt(data, at, secret.Runes);
                if (length > 0)
                {
                    if (best < 0 || at < best || length > bestLength)
                    {
                        best = at;
                        bestLength = length;
                        found = true;
                    }
                    break;
                }
                p = at + 1;
            }
        }
        return found ? (best, bestLength) : (-1, 0);
    }

    /// <summary>How many bytes at <paramref name="pos"/> spell <paramref name="runes"/> in some decodable form, or -1.</summary>
    private static int MatchAt(ReadOnlySpan<byte> data, int pos, Rune[] runes)
    {
        int start = pos;
        foreach (var rune in runes)
        {
            int n = MatchRune(data, pos, rune);
            if (n < 0)
                return -1;
            pos += n;
        }
        return pos - start;
    }

    private static int MatchRune(ReadOnlySpan<byte> data, int pos, Rune rune)
    {
        if (pos >= data.Length)
            return -1;
        if (data[pos] == (byte)'\\' && MatchJsonEscape(data, pos, rune) is > 0 and var escaped)
            return escaped;
        // Literal, or percent-encoded, byte by byte (any subset, either hex case).
        Span<byte> utf8 = stackalloc byte[4];
        int count = rune.EncodeToUtf8(utf8);
        int p = pos;
        for (int i = 0; i < count; i++)
        {
            if (p < data.Length && data[p] == utf8[i])
                p++;
            else if (p + 2 < data.Length && data[p] == (byte)'%' && Hex(data[p + 1]) is >= 0 and var hi && Hex(data[p + 2]) is >= 0 and var lo && (hi << 4 | lo) == utf8[i])
                p += 3;
            else
                return -1;
        }
        return p - pos;
    }

    private static int MatchJsonEscape(ReadOnlySpan<byte> data, int pos, Rune rune)
    {
        if (pos + 1 >= data.Length)
            return -1;
        char? shortForm = data[pos + 1] switch
        {
            (byte)'"' => '"', (byte)'\\' => '\\', (byte)'/' => '/', (byte)'b' => '\b',
            (byte)'f' => '\f', (byte)'n' => '\n', (byte)'r' => '\r', (byte)'t' => '\t', _ => null,
        };
        if (shortForm is { } c)
            return rune.Value == c ? 2 : -1;
        if (data[pos + 1] != (byte)'u')
            return -1;
        Span<char> units = stackalloc char[2];
        int needed = rune.EncodeToUtf16(units);
        int p = pos;
        for (int i = 0; i < needed; i++)
        {
            if (p + 6 > data.Length)
                return -1;
            if (data[p] != (byte)'\\' || data[p + 1] != (byte)'u')
                return -1;
            int value = 0;
            for (int k = 2; k < 6; k++)
            {
                int h = Hex(data[p + k]);
                if (h < 0)
                    return -1;
                value = value << 4 | h;
            }
            if (value != units[i])
                return -1;
            p += 6;
        }
        return p - pos;
    }

    private static int Hex(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
