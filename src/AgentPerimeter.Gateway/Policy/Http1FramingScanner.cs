using System.Buffers;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Follows an HTTP/1.1 connection's bytes as Kestrel reads them — request heads, then each body by
/// its own framing (Content-Length, chunked) — to see the two framings Kestrel accepts but a proxy
/// must not (RFC 9112 §6.1, §6.3): <c>Content-Length</c> together with <c>Transfer-Encoding</c> (Kestrel
/// drops the length and reads chunked, where an upstream or a proxy in between might not), and a
/// <c>Content-Length</c> that is not plain digits (<c>+2</c> is 2 to Kestrel, an error or 0 to others).
/// It never changes a byte: it reports the request's index on the connection and what is wrong, and
/// the pipeline refuses that request (audited). It accepts a superset of what Kestrel accepts, so where
/// it would lose the message boundary Kestrel has already refused the request and closed the connection;
/// an HTTP/2 connection, an upgrade, or a head too large for Kestrel stop the scan. A stop other than
/// HTTP/2 fails closed: every later request on the connection is reported (see <see cref="StoppedAt"/>).
/// </summary>
internal sealed class Http1FramingScanner
{
    private const int MaxLine = 8 * 1024;          // longer lines are kept truncated (marked)
    private const int MaxHead = 128 * 1024;        // far above Kestrel's limits: it refuses first
    private static ReadOnlySpan<byte> Http2Preface => "PRI * HTTP/2.0"u8;

    private enum State { Head, FixedBody, ChunkSize, ChunkData, ChunkDataEnd, Trailers, Stopped }

    private readonly Action<long, string> _onProblem;
    private readonly byte[] _line = new byte[MaxLine];
    private int _lineLength;
    private bool _lineTruncated;
    private State _state = State.Head;
    private long _remaining;
    private long _headBytes;
    private bool _sawRequestLine;
    private int _contentLengths;
    private string? _contentLengthValue;
    private bool _contentLengthTruncated;
    private bool _transferEncoding;
    private bool _upgrade;
    private bool _connectionUpgrade;
    private bool _http2;

    /// <param name="onProblem">Called with the request's zero-based index on the connection and the reason.</param>
    public Http1FramingScanner(Action<long, string> onProblem) => _onProblem = onProblem;

    /// <summary>Request heads seen so far.</summary>
    public long Requests { get; private set; }

    /// <summary>The index of the first request whose framing the scan did not follow (when stopped), else null.</summary>
    public long? StoppedAt => _state == State.Stopped && !_http2 ? Requests : null;

    /// <summary>Whether the scan has stopped (HTTP/2, an upgrade, a head Kestrel refuses as too large, a lost boundary).</summary>
    public bool Stopped => _state == State.Stopped;

    /// <summary>
    /// Whether the connection turned out to be HTTP/2 (prior knowledge): its framing is binary and the scan
    /// stops without concern. Any other stop fails closed: no later request on the connection is trusted.
    /// </summary>
    public bool IsHttp2 => _http2;

    public void Scan(in ReadOnlySequence<byte> bytes)
    {
        foreach (var memory in bytes)
        {
            if (_state == State.Stopped)
                return;
            Scan(memory.Span);
        }
    }

    public void Scan(ReadOnlySpan<byte> span)
    {
        while (!span.IsEmpty && _state != State.Stopped)
        {
            switch (_state)
            {
                case State.FixedBody:
                case State.ChunkData:
                {
                    int take = (int)Math.Min(_remaining, span.Length);
                    span = span[take..];
                    _remaining -= take;
                    if (_remaining == 0)
                        _state = _state == State.FixedBody ? State.Head : State.ChunkDataEnd;
                    break;
                }
                default:
                {
                    // Line-oriented states: collect up to LF.
                    int lf = span.IndexOf((byte)'\n');
                    if (lf >= 0 && _lineLength == 0)
                    {
                        // The whole line is in this span (the common case): read it in place, no copy.
                        var whole = span[..lf];
                        if (_state == State.Head)
                        {
                            _headBytes += lf + 1;
                            if (_headBytes > MaxHead)
                            {
                                _state = State.Stopped;
                                return;
                            }
                        }
                        span = span[(lf + 1)..];
                        _lineTruncated = whole.Length > MaxLine;
                        if (_lineTruncated)
                            whole = whole[..MaxLine];
                        if (!whole.IsEmpty && whole[^1] == (byte)'\r')
                            whole = whole[..^1];
                        OnLine(whole);
                        _lineTruncated = false;
                        break;
                    }
                    var part = lf < 0 ? span : span[..lf];
                    Append(part);
                    if (_state == State.Head)
                    {
                        _headBytes += part.Length + (lf < 0 ? 0 : 1);
                        if (_headBytes > MaxHead)
                        {
                            _state = State.Stopped;
                            return;
                        }
                    }
                    if (lf < 0)
                        return;
                    span = span[(lf + 1)..];
                    var line = _line.AsSpan(0, _lineLength);
                    if (!line.IsEmpty && line[^1] == (byte)'\r')
                        line = line[..^1];
                    OnLine(line);
                    _lineLength = 0;
                    _lineTruncated = false;
                    break;
                }
            }
        }
    }

    private void Append(ReadOnlySpan<byte> part)
    {
        int room = MaxLine - _lineLength;
        if (part.Length > room)
        {
            _lineTruncated = true;
            part = part[..room];
        }
        part.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += part.Length;
    }

    private void OnLine(ReadOnlySpan<byte> line)
    {
        switch (_state)
        {
            case State.Head:
                OnHeadLine(line);
                break;
            case State.ChunkSize:
            {
                // chunk-size [ chunk-ext ] CRLF: hex digits first; anything after is an extension.
                long size = 0;
                int digits = 0;
                foreach (var b in line)
                {
                    int value = HexValue(b);
                    if (value < 0)
                        break;
                    if (++digits > 15)
                    {
                        _state = State.Stopped; // Kestrel refuses a size this large
                        return;
                    }
                    size = (size << 4) | (uint)value;
                }
                if (digits == 0)
                {
                    _state = State.Stopped; // Kestrel refuses it and closes the connection
                    return;
                }
                if (size == 0)
                {
                    _state = State.Trailers;
                }
                else
                {
                    _remaining = size;
                    _state = State.ChunkData;
                }
                break;
            }
            case State.ChunkDataEnd:
                if (!line.IsEmpty)
                    _state = State.Stopped; // data longer than its size: Kestrel refuses
                else
                    _state = State.ChunkSize;
                break;
            case State.Trailers:
                if (line.IsEmpty)
                    StartHead();
                break;
        }
    }

    private void OnHeadLine(ReadOnlySpan<byte> line)
    {
        if (!_sawRequestLine)
        {
            if (line.IsEmpty)
                return; // empty lines before a request line are ignored (RFC 9112 §2.2)
            if (line.StartsWith(Http2Preface))
            {
                _http2 = true;
                _state = State.Stopped; // HTTP/2 prior knowledge: binary framing, no smuggling by headers
                return;
            }
            _sawRequestLine = true;
            return;
        }
        if (line.IsEmpty)
        {
            EndOfHead();
            return;
        }
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
            return; // Kestrel refuses it
        var name = line[..colon];
        var value = Trim(line[(colon + 1)..]);
        if (System.Text.Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            _contentLengths++;
            _contentLengthValue = System.Text.Encoding.ASCII.GetString(value);
            _contentLengthTruncated |= _lineTruncated;
        }
        else if (System.Text.Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            _transferEncoding = true;
        }
        else if (System.Text.Ascii.EqualsIgnoreCase(name, "Upgrade"u8))
        {
            _upgrade = true;
        }
        else if (System.Text.Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            // Kestrel's rule: an upgrade needs the "upgrade" token in Connection (and Upgrade, and no body).
            foreach (var range in value.Split((byte)','))
            {
                if (System.Text.Ascii.EqualsIgnoreCase(Trim(value[range]), "upgrade"u8))
                    _connectionUpgrade = true;
            }
        }
    }

    private void EndOfHead()
    {
        long index = Requests++;
        string? problem = null;
        long length = 0;
        if (_transferEncoding && _contentLengths > 0)
        {
            problem = "Content-Length together with Transfer-Encoding";
        }
        else if (_contentLengths > 0)
        {
            var value = _contentLengthValue!;
            if (_contentLengths > 1 || _contentLengthTruncated || value.Length == 0 || value.Length > 18 || value.AsSpan().ContainsAnyExceptInRange('0', '9'))
            {
                problem = "a Content-Length that is not one plain decimal number";
                // Stay on Kestrel's boundary where it accepts the value anyway ("+2" is 2 to it).
                var lenient = value.StartsWith('+') ? value[1..] : value;
                if (_contentLengths > 1 || lenient.Length == 0 || lenient.Length > 18 || lenient.AsSpan().ContainsAnyExceptInRange('0', '9'))
                {
                    _onProblem(index, problem);
                    _state = State.Stopped; // Kestrel refuses it and closes the connection
                    return;
                }
                length = long.Parse(lenient, System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                length = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        if (problem is not null)
            _onProblem(index, problem);

        // An upgrade as Kestrel sees one (Upgrade, Connection: upgrade, no body): what follows may not be
        // HTTP/1.1 at all. The perimeter refuses it and closes the connection; the scan stops (failing closed).
        bool upgrade = _upgrade && _connectionUpgrade && !_transferEncoding && length == 0;
        bool chunked = _transferEncoding;
        StartHead();
        if (upgrade)
            _state = State.Stopped;
        else if (chunked)
            _state = State.ChunkSize;
        else if (length > 0)
        {
            _remaining = length;
            _state = State.FixedBody;
        }
    }

    private void StartHead()
    {
        _state = State.Head;
        _headBytes = 0;
        _sawRequestLine = false;
        _contentLengths = 0;
        _contentLengthValue = null;
        _contentLengthTruncated = false;
        _transferEncoding = false;
        _upgrade = false;
        _connectionUpgrade = false;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value)
    {
        int start = 0, end = value.Length;
        while (start < end && value[start] is (byte)' ' or (byte)'\t')
            start++;
        while (end > start && value[end - 1] is (byte)' ' or (byte)'\t')
            end--;
        return value[start..end];
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
