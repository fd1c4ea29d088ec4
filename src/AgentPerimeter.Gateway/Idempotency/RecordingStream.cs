namespace AgentPerimeter.Gateway.Idempotency;

/// <summary>Passes the answer through unchanged, keeping a copy up to a limit.</summary>
internal sealed class RecordingStream(Stream inner, int limit) : Stream
{
    private readonly MemoryStream _copy = new();

    public bool Overflowed { get; private set; }
    public byte[] Recorded => _copy.ToArray();

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (Overflowed)
            return;
        if (_copy.Length + data.Length > limit)
        {
            Overflowed = true;
            _copy.SetLength(0);
            return;
        }
        _copy.Write(data);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Keep(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        Keep(buffer.AsSpan(offset, count));
        inner.Write(buffer, offset, count);
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Flush() => inner.Flush();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
