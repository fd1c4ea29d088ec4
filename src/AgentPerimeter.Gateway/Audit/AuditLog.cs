using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AgentPerimeter.Gateway.Metrics;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>Where the audit log lives.</summary>
public sealed class AuditOptions
{
    /// <summary>Path of the append-only JSON-lines file. Relative paths are under the data directory.</summary>
    public string Path { get; set; } = "audit.jsonl";
}

/// <summary>
/// The durable, hash-chained audit log. Requests hand in serialized records and wait; one writer
/// drains everything queued, appends it, and makes it durable with one fsync (group commit), so
/// concurrent actions share the cost of durability. A failed write completes its records with
/// false, the log turns unhealthy, and the gateway refuses actions until a reopen succeeds.
/// </summary>
public sealed partial class AuditLog : IAsyncDisposable
{
    private const int MaxBatch = 1024;
    private static readonly TimeSpan ReopenInterval = TimeSpan.FromSeconds(1);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger<AuditLog> _logger;
    private readonly PerimeterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Lock _fileLock = new();
    private readonly Task _writer;
    private readonly MemoryStream _batchBuffer = new();

    private FileStream? _stream;
    private long _durableLength;
    private long _seq;
    private string _prev = AuditChain.Genesis;
    private volatile bool _healthy;
    private long _lastReopenAttempt = long.MinValue;

    public AuditLog(string path, ILogger<AuditLog> logger, PerimeterMetrics metrics, TimeProvider time)
    {
        FilePath = System.IO.Path.GetFullPath(path);
        _logger = logger;
        _metrics = metrics;
        _time = time;
        lock (_fileLock)
            _healthy = TryOpen();
        _writer = Task.Run(WriteLoopAsync);
    }

    public string FilePath { get; }

    /// <summary>True while the last write (or open) succeeded.</summary>
    public bool IsHealthy => _healthy;

    /// <summary>
    /// Checks that actions may proceed: healthy, or a reopen (at most once a second) succeeded.
    /// Called before an action is forwarded so nothing acts while the log cannot record it.
    /// </summary>
    public bool EnsureWritable()
    {
        if (_healthy)
            return true;
        lock (_fileLock)
        {
            if (_healthy)
                return true;
            long now = _time.GetTimestamp();
            if (_lastReopenAttempt != long.MinValue && _time.GetElapsedTime(_lastReopenAttempt, now) < ReopenInterval)
                return false;
            _lastReopenAttempt = now;
            // Opening is not proof of writability (a full disk opens fine): the log is healthy again
            // only once a record saying so has been made durable.
            _healthy = TryOpen() && WriteRecords([AuditRecord.SerializeSystemEvent("audit_recovered", _time.GetUtcNow())]);
            return _healthy;
        }
    }

    /// <summary>Appends a record; completes true once it is durable, false if it could not be written.</summary>
    public Task<bool> AppendAsync(byte[] fields)
    {
        var pending = new Pending(fields, new TaskCompletionSource<bool>());
        if (!_queue.Writer.TryWrite(pending))
            return Task.FromResult(false);
        return pending.Completion.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var item))
                batch.Add(item);
            bool ok;
            try
            {
                lock (_fileLock)
                    ok = WriteBatch(batch);
            }
            catch (Exception ex)
            {
                // Whatever went wrong, the writer must live on and the waiting actions must be answered.
                Log.WriteFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
                _metrics.AuditWriteError();
                lock (_fileLock)
                    CloseAfterFailure();
                ok = false;
            }
            // One thread-pool item releases the whole batch (its waiters continue inline there), rather
            // than a wake-up per waiter, and the writer goes straight back to the next batch.
            var done = batch.ToArray();
            ThreadPool.UnsafeQueueUserWorkItem(static state =>
            {
                foreach (var item in state.Done)
                    item.Completion.TrySetResult(state.Ok);
            }, (Done: done, Ok: ok), preferLocal: false);
        }
    }

    private bool WriteBatch(List<Pending> batch)
    {
        if (_stream is null)
        {
            // Unhealthy: EnsureWritable alone brings the log back, so nothing queued meanwhile is written out of turn.
            _metrics.AuditWriteError();
            return false;
        }
        var fields = new byte[batch.Count][];
        for (int i = 0; i < batch.Count; i++)
            fields[i] = batch[i].Fields;
        bool ok = WriteRecords(fields);
        if (ok)
            _metrics.AuditBatch(batch.Count);
        return ok;
    }

    private bool WriteRecords(byte[][] records)
    {
        if (_stream is null)
            return false;
        long seq = _seq;
        string prev = _prev;
        _batchBuffer.SetLength(0);
        foreach (var item in records)
        {
            seq++;
            var body = AuditChain.Body(seq, prev, item);
            var hash = AuditChain.Hash(body);
            AuditChain.WriteLine(_batchBuffer, body, hash);
            prev = hash;
        }

        try
        {
            _stream!.Write(_batchBuffer.GetBuffer(), 0, (int)_batchBuffer.Length);
            _stream.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Log.WriteFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
            _metrics.AuditWriteError();
            CloseAfterFailure();
            return false;
        }

        _durableLength += _batchBuffer.Length;
        _seq = seq;
        _prev = prev;
        return true;
    }

    private void CloseAfterFailure()
    {
        _healthy = false;
        try
        {
            // Bytes of a failed batch may have reached the file: cut back to what was acknowledged,
            // so the chain on disk only holds records whose actions were allowed to proceed.
            if (_stream is { CanSeek: true } s && s.Length > _durableLength)
                s.SetLength(_durableLength);
            _stream?.Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.WriteFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
        }
        _stream = null;
    }

    private bool TryOpen()
    {
        try
        {
            var dir = System.IO.Path.GetDirectoryName(FilePath);
            if (!string.IsNullOrEmpty(dir))
                Directory.CreateDirectory(dir);
            var stream = new FileStream(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
            if (stream.CanSeek)
            {
                RecoverTail(stream);
                _durableLength = stream.Length;
                stream.Seek(0, SeekOrigin.End);
            }
            else
            {
                // A pipe or device (e.g. a log shipper's FIFO): no tail to continue from.
                _seq = 0;
                _prev = AuditChain.Genesis;
                _durableLength = 0;
            }
            _stream = stream;
            Log.Opened(_logger, FilePath, _seq);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            Log.OpenFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
            return false;
        }
    }

    /// <summary>Continues the chain from the last complete line; drops a torn trailing line left by a crash.</summary>
    private void RecoverTail(FileStream stream)
    {
        long length = stream.Length;
        if (length == 0)
        {
            _seq = 0;
            _prev = AuditChain.Genesis;
            return;
        }
        int window = (int)Math.Min(length, 256 * 1024);
        var tail = new byte[window];
        stream.Seek(length - window, SeekOrigin.Begin);
        stream.ReadExactly(tail);

        int end = tail.Length;
        if (tail[^1] != (byte)'\n')
        {
            int lastNewline = Array.LastIndexOf(tail, (byte)'\n');
            long keep = lastNewline < 0 ? length - window : length - window + lastNewline + 1;
            Log.TornTail(_logger, FilePath, length - keep);
            stream.SetLength(keep);
            if (keep == 0)
            {
                _seq = 0;
                _prev = AuditChain.Genesis;
                return;
            }
            end = lastNewline + 1;
        }
        int start = Array.LastIndexOf(tail, (byte)'\n', Math.Max(0, end - 2));
        var lastLine = Encoding.UTF8.GetString(tail, start + 1, end - start - 2);
        var split = AuditChain.Split(lastLine) ?? throw new IOException("the last line of the audit log is not an audit record; refusing to extend it");
        using var doc = JsonDocument.Parse(split.Body);
        _seq = doc.RootElement.GetProperty("seq").GetInt64();
        _prev = split.Hash;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        lock (_fileLock)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    private readonly record struct Pending(byte[] Fields, TaskCompletionSource<bool> Completion);

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Audit log {Path} open at sequence {Seq}")]
        public static partial void Opened(ILogger logger, string path, long seq);

        [LoggerMessage(EventId = 301, Level = LogLevel.Critical, Message = "Audit log {Path} cannot be opened ({ErrorType}: {Error}); actions are refused until it can")]
        public static partial void OpenFailed(ILogger logger, string path, string errorType, string error);

        [LoggerMessage(EventId = 302, Level = LogLevel.Critical, Message = "Audit write to {Path} failed ({ErrorType}: {Error}); actions are refused until it recovers")]
        public static partial void WriteFailed(ILogger logger, string path, string errorType, string error);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Audit log {Path} ended in a torn line; {Bytes} bytes dropped")]
        public static partial void TornTail(ILogger logger, string path, long bytes);
    }
}
