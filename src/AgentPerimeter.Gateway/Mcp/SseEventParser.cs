using System.Buffers;
using System.Text;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>One Server-Sent Event as a client will dispatch it.</summary>
internal sealed class SseEvent
{
    public List<string> Comments { get; } = [];
    public string? EventType { get; set; }
    public string? Id { get; set; }
    public string? Retry { get; set; }

    /// <summary>The data lines joined with <c>\n</c>, or null when the event has no <c>data</c> field.</summary>
    public string? Data { get; set; }

    public bool IsEmpty => Comments.Count == 0 && EventType is null && Id is null && Retry is null && Data is null;
}

/// <summary>
/// An incremental Server-Sent Events parser that reads a stream exactly as the HTML standard tells a
/// client to (the parser of the browsers and of the MCP SDKs): a leading byte-order mark is dropped,
/// lines end with CRLF, LF or a bare CR, <c>data</c> lines of one event are joined with <c>\n</c>,
/// a field without a colon has an empty value, one space after the colon is dropped, unknown fields
/// are ignored. The gateway inspects what this yields and writes it out again in one normal form
/// (<see cref="Write"/>), so what the agent's client parses is exactly what was inspected, whatever
/// framing the server chose.
/// </summary>
internal sealed class SseEventParser(int maxEventBytes)
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];
    private readonly StringBuilder _data = new();
    private SseEvent _current = new();
    private bool _hasData;
    private bool _started;
    private bool _afterCr;
    private long _eventBytes;

    /// <summary>
    /// Reads the complete lines of <paramref name="buffer"/>, adding each completed event to
    /// <paramref name="events"/>; returns how far it consumed (the rest waits for more bytes).
    /// Throws <see cref="InvalidDataException"/> when an event grows beyond the limit.
    /// </summary>
    public SequencePosition Parse(ReadOnlySequence<byte> buffer, bool isFinal, List<SseEvent> events)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!_started)
        {
            if (reader.Remaining < Bom.Length && !isFinal && StartsLikeBom(buffer))
                return reader.Position; // could still be a byte-order mark: wait for it whole
            _started = true;
            reader.IsNext(Bom, advancePast: true);
        }
        while (true)
        {
            if (_afterCr)
            {
                // A CR ended the last line; an LF right after it belongs to the same line end.
                if (!reader.TryPeek(out var next))
                    break;
                _afterCr = false;
                if (next == (byte)'\n')
                    reader.Advance(1);
            }
            if (!reader.TryReadToAny(out ReadOnlySequence<byte> line, "\r\n"u8, advancePastDelimiter: false))
            {
                if (isFinal && !reader.End)
                {
                    // The stream ended inside a line: it is still a line.
                    var rest = reader.UnreadSequence;
                    Account(rest.Length);
                    Line(rest);
                    reader.AdvanceToEnd();
                }
                else if (_eventBytes + reader.Remaining > maxEventBytes)
                {
                    throw new InvalidDataException($"a server-sent event is larger than {maxEventBytes} bytes");
                }
                break;
            }
            reader.TryRead(out var delimiter);
            _afterCr = delimiter == (byte)'\r';
            Account(line.Length + 1);
            if (line.Length == 0)
                Dispatch(events);
            else
                Line(line);
        }
        if (isFinal)
        {
            // What a server left unterminated at the end is inspected too (and then sent terminated).
            if (!_current.IsEmpty || _hasData)
                Dispatch(events);
        }
        return reader.Position;
    }

    private void Account(long bytes)
    {
        if (_eventBytes + bytes > maxEventBytes)
            throw new InvalidDataException($"a server-sent event is larger than {maxEventBytes} bytes");
        _eventBytes += bytes;
    }

    private static bool StartsLikeBom(ReadOnlySequence<byte> buffer)
    {
        Span<byte> head = stackalloc byte[3];
        int n = (int)Math.Min(buffer.Length, 3);
        buffer.Slice(0, n).CopyTo(head);
        return head[..n].SequenceEqual(Bom.AsSpan(0, n));
    }

    private void Line(ReadOnlySequence<byte> bytes)
    {
        var line = Encoding.UTF8.GetString(bytes);
        if (line.StartsWith(':'))
        {
            _current.Comments.Add(line[1..]);
            return;
        }
        int colon = line.IndexOf(':', StringComparison.Ordinal);
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? "" : line[(colon + 1)..];
        if (value.StartsWith(' '))
            value = value[1..];
        switch (field)
        {
            case "data":
                _data.Append(value).Append('\n');
                _hasData = true;
                break;
            case "event":
                _current.EventType = value;
                break;
            case "id":
                if (!value.Contains('\0', StringComparison.Ordinal))
                    _current.Id = value;
                break;
            case "retry":
                if (value.Length > 0 && value.All(char.IsAsciiDigit))
                    _current.Retry = value;
                break;
            default:
                break; // ignored by clients, so not relayed
        }
    }

    private void Dispatch(List<SseEvent> events)
    {
        if (_hasData)
            _current.Data = _data.ToString(0, _data.Length - 1);
        if (!_current.IsEmpty)
            events.Add(_current);
        _current = new SseEvent();
        _data.Clear();
        _hasData = false;
        _eventBytes = 0;
    }

    /// <summary>Writes an event in the normal form: LF line ends, one field per line, then a blank line.</summary>
    public static void Write(StringBuilder output, SseEvent e, string? data)
    {
        foreach (var comment in e.Comments)
            output.Append(':').Append(comment).Append('\n');
        if (e.EventType is not null)
            output.Append("event: ").Append(e.EventType).Append('\n');
        if (e.Id is not null)
            output.Append("id: ").Append(e.Id).Append('\n');
        if (e.Retry is not null)
            output.Append("retry: ").Append(e.Retry).Append('\n');
        if (data is not null)
        {
            foreach (var line in data.Split('\n'))
                output.Append("data: ").Append(line).Append('\n');
        }
        output.Append('\n');
    }
}
