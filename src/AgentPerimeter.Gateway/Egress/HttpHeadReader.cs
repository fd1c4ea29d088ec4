using System.Text;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>Reads HTTP/1.1 request heads and fixed-length bodies from a decrypted stream, with one bounded buffer.</summary>
internal sealed class HttpHeadReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[ProxyRequestHead.MaxBytes];
    private int _start;
    private int _end;

    /// <summary>The next head's text (without the blank line), or null when the client closed between requests.</summary>
    public async Task<string?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
            if (at >= 0)
            {
                var text = Encoding.Latin1.GetString(_buffer, _start, at);
                _start += at + 4;
                return text;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
                throw new InvalidDataException($"a request head is larger than {_buffer.Length} bytes");
            int n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                return _end == 0 ? null : throw new InvalidDataException("the connection closed in the middle of a request head");
            _end += n;
        }
    }

    /// <summary>Exactly <paramref name="length"/> bytes of body.</summary>
    public async Task<byte[]> ReadBodyAsync(long length, CancellationToken cancellationToken)
    {
        var body = new byte[length];
        int copied = (int)Math.Min(length, _end - _start);
        Buffer.BlockCopy(_buffer, _start, body, 0, copied);
        _start += copied;
        while (copied < length)
        {
            int n = await stream.ReadAsync(body.AsMemory(copied), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new InvalidDataException("the connection closed in the middle of a request body");
            copied += n;
        }
        return body;
    }
}
