using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AgentPerimeter.Gateway.Metrics;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>
/// The hash-chained audit log. Requests hand in serialized records and wait; one writer drains
/// everything queued, appends it, and makes it durable per <see cref="AuditOptions.Durability"/> — one
/// fsync per batch (group commit) or one <c>write()</c> per batch with a periodic flush — so concurrent
/// actions share the cost. The active file rotates at <see cref="AuditOptions.MaxFileBytes"/> with the
/// chain continuing into the next file; checkpoints anchor it off the log. A failed write completes its
/// records with false, the log turns unhealthy, and the gateway refuses actions until a reopen succeeds.
/// </summary>
public sealed partial class AuditLog : IAsyncDisposable
{
    private const int MaxBatch = 1024;
    private static readonly TimeSpan ReopenInterval = TimeSpan.FromSeconds(1);

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly AuditOptions _options;
    private readonly ILogger<AuditLog> _logger;
    private readonly PerimeterMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly AuditCheckpoints? _checkpoints;
    private readonly Lock _fileLock = new();
    private readonly Task _writer;
    private readonly Task _flusher;
    private readonly CancellationTokenSource _stopping = new();
    private readonly MemoryStream _batchBuffer = new();

    private FileStream? _stream;
    private long _durableLength;
    private long _seq;
    private string _prev = AuditChain.Genesis;
    private long _fileFirstSeq;
    private bool _unflushed;
    private volatile bool _healthy;
    private long _lastReopenAttempt = long.MinValue;

    public AuditLog(AuditOptions options, ILogger<AuditLog> logger, PerimeterMetrics metrics, TimeProvider time, AuditCheckpoints? checkpoints = null)
    {
        _options = options;
        FilePath = System.IO.Path.GetFullPath(options.Path);
        _logger = logger;
        _metrics = metrics;
        _time = time;
        _checkpoints = checkpoints;
        metrics.AuditDurability(options.Durability.ToString().ToLowerInvariant());
        lock (_fileLock)
            _healthy = TryOpen();
        _writer = Task.Run(WriteLoopAsync);
        _flusher = options.Durability == AuditDurability.Write ? Task.Run(FlushLoopAsync) : Task.CompletedTask;
    }

    /// <summary>The active file.</summary>
    public string FilePath { get; }

    public AuditDurability Durability => _options.Durability;

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
            _healthy = TryOpen() && WriteRecords([AuditRecord.SerializeSystemEvent("audit_recovered", _time.GetUtcNow())], forceFlush: true);
            return _healthy;
        }
    }

    /// <summary>Appends a record; completes true once it is durable (per the mode), false if it could not be written.</summary>
    public Task<bool> AppendAsync(byte[] fields)
    {
        var pending = new Pending(fields, new TaskCompletionSource<bool>());
        if (!_queue.Writer.TryWrite(pending))
            return Task.FromResult(false);
        return pending.Completion.Task;
    }

    /// <summary>Every file of the series, oldest first: the rotated files, then the active one.</summary>
    public IReadOnlyList<string> SeriesFiles()
    {
        var files = RotatedFiles();
        if (File.Exists(FilePath))
            files.Add(FilePath);
        return files;
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

    /// <summary><c>Write</c> mode: what was written reaches the device within one interval.</summary>
    private async Task FlushLoopAsync()
    {
        using var timer = new PeriodicTimer(_options.FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                FileStream? stream;
                lock (_fileLock)
                {
                    if (!_unflushed || _stream is null)
                        continue;
                    stream = _stream;
                    _unflushed = false;
                }
                // The device flush runs outside the lock: the writer keeps handing batches to the kernel
                // meanwhile, so no action waits for a flush in write mode.
                try
                {
                    DeviceFlush.Flush(stream);
                }
                catch (ObjectDisposedException)
                {
                    // Rotated or closed meanwhile: its last batch was flushed there.
                }
                catch (IOException ex)
                {
                    Log.WriteFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
                    _metrics.AuditWriteError();
                    lock (_fileLock)
                    {
                        if (ReferenceEquals(stream, _stream))
                            CloseAfterFailure();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
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
        bool ok = WriteRecords(fields, forceFlush: false);
        if (ok)
            _metrics.AuditBatch(batch.Count);
        return ok;
    }

    private bool WriteRecords(byte[][] records, bool forceFlush)
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
            _stream.Write(_batchBuffer.GetBuffer(), 0, (int)_batchBuffer.Length);
            if (forceFlush || _options.Durability == AuditDurability.Fsync)
                DeviceFlush.Flush(_stream);
            else
                _unflushed = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Log.WriteFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
            _metrics.AuditWriteError();
            CloseAfterFailure();
            return false;
        }

        if (_fileFirstSeq == 0)
            _fileFirstSeq = _seq + 1;
        _durableLength += _batchBuffer.Length;
        _seq = seq;
        _prev = prev;
        _checkpoints?.Observe(System.IO.Path.GetFileName(FilePath), seq, prev, records.Length);
        if (_options.MaxFileBytes > 0 && _durableLength >= _options.MaxFileBytes)
            Rotate();
        return true;
    }

    /// <summary>
    /// Closes the active file under a name that sorts by its first record (<c>audit.000000000001.jsonl</c>)
    /// and starts a new one whose first record links the last hash of the closed one.
    /// </summary>
    private void Rotate()
    {
        try
        {
            DeviceFlush.Flush(_stream!);
            _stream!.Dispose();
            _stream = null;
            var rotated = RotatedName(_fileFirstSeq);
            File.Move(FilePath, rotated);
            Log.Rotated(_logger, rotated, _seq);
            _stream = Create(FilePath, FileMode.CreateNew);
            _durableLength = 0;
            _fileFirstSeq = 0;
            _unflushed = false;
            ApplyRetention();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.WriteFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
            _metrics.AuditWriteError();
            CloseAfterFailure();
        }
    }

    private void ApplyRetention()
    {
        if (_options.MaxFiles <= 0)
            return;
        var rotated = RotatedFiles();
        for (int i = 0; i < rotated.Count - _options.MaxFiles; i++)
        {
            File.Delete(rotated[i]);
            Log.Retired(_logger, rotated[i]);
        }
    }

    private string RotatedName(long firstSeq)
    {
        var dir = System.IO.Path.GetDirectoryName(FilePath)!;
        var stem = System.IO.Path.GetFileNameWithoutExtension(FilePath);
        return System.IO.Path.Combine(dir, $"{stem}.{firstSeq:D12}{System.IO.Path.GetExtension(FilePath)}");
    }

    /// <summary>The rotated files of this log, oldest first (their names sort by first sequence number).</summary>
    private List<string> RotatedFiles()
    {
        var dir = System.IO.Path.GetDirectoryName(FilePath)!;
        var stem = System.IO.Path.GetFileNameWithoutExtension(FilePath);
        var ext = System.IO.Path.GetExtension(FilePath);
        if (!Directory.Exists(dir))
            return [];
        return Directory.GetFiles(dir, $"{stem}.*{ext}")
            .Where(f => System.IO.Path.GetFileName(f).Length == stem.Length + 1 + 12 + ext.Length)
            .Order(StringComparer.Ordinal)
            .ToList();
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

    /// <summary>The log holds arguments and results: only the gateway's user may read it.</summary>
    private static FileStream Create(string path, FileMode mode)
    {
        var options = new FileStreamOptions
        {
            Mode = mode, Access = FileAccess.ReadWrite, Share = FileShare.Read, BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows() && stream.CanSeek)
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return stream;
    }

    private bool TryOpen()
    {
        try
        {
            var dir = System.IO.Path.GetDirectoryName(FilePath);
            if (!string.IsNullOrEmpty(dir))
                Directory.CreateDirectory(dir);
            var stream = Create(FilePath, FileMode.OpenOrCreate);
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
            Log.Opened(_logger, FilePath, _seq, _options.Durability.ToString());
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            Log.OpenFailed(_logger, FilePath, ex.GetType().Name, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// Continues the chain from the last complete line of the active file, or of the newest rotated file
    /// when the active one is empty; drops a torn trailing line left by a crash.
    /// </summary>
    private void RecoverTail(FileStream stream)
    {
        _fileFirstSeq = 0;
        if (stream.Length == 0)
        {
            var rotated = RotatedFiles();
            if (rotated.Count == 0)
            {
                _seq = 0;
                _prev = AuditChain.Genesis;
                return;
            }
            using var previous = new FileStream(rotated[^1], FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            (_seq, _prev) = LastRecord(previous, truncateTorn: false) ?? throw new IOException($"the rotated audit file {rotated[^1]} holds no record to continue from");
            return;
        }
        var last = LastRecord(stream, truncateTorn: true);
        if (last is null)
        {
            _seq = 0;
            _prev = AuditChain.Genesis;
            return;
        }
        (_seq, _prev) = last.Value;
        stream.Seek(0, SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadLine() is { } firstLine && AuditChain.Split(firstLine) is { } first)
        {
            using var doc = JsonDocument.Parse(first.Body);
            _fileFirstSeq = doc.RootElement.GetProperty("seq").GetInt64();
        }
    }

    private (long Seq, string Hash)? LastRecord(FileStream stream, bool truncateTorn)
    {
        long length = stream.Length;
        if (length == 0)
            return null;
        int window = (int)Math.Min(length, 256 * 1024);
        var tail = new byte[window];
        stream.Seek(length - window, SeekOrigin.Begin);
        stream.ReadExactly(tail);

        int end = tail.Length;
        if (tail[^1] != (byte)'\n')
        {
            int lastNewline = Array.LastIndexOf(tail, (byte)'\n');
            long keep = lastNewline < 0 ? length - window : length - window + lastNewline + 1;
            if (truncateTorn)
            {
                Log.TornTail(_logger, stream.Name, length - keep);
                stream.SetLength(keep);
            }
            if (keep == 0 || lastNewline < 0)
                return null;
            end = lastNewline + 1;
        }
        int start = Array.LastIndexOf(tail, (byte)'\n', Math.Max(0, end - 2));
        var lastLine = Encoding.UTF8.GetString(tail, start + 1, end - start - 2);
        var split = AuditChain.Split(lastLine) ?? throw new IOException("the last line of the audit log is not an audit record; refusing to extend it");
        using var doc = JsonDocument.Parse(split.Body);
        return (doc.RootElement.GetProperty("seq").GetInt64(), split.Hash);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _stopping.Cancel();
        await _flusher.ConfigureAwait(false);
        lock (_fileLock)
        {
            try
            {
                _stream?.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
            }
            _stream?.Dispose();
            _stream = null;
        }
        _stopping.Dispose();
    }

    private readonly record struct Pending(byte[] Fields, TaskCompletionSource<bool> Completion);

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Audit log {Path} open at sequence {Seq} (durability {Durability})")]
        public static partial void Opened(ILogger logger, string path, long seq, string durability);

        [LoggerMessage(EventId = 301, Level = LogLevel.Critical, Message = "Audit log {Path} cannot be opened ({ErrorType}: {Error}); actions are refused until it can")]
        public static partial void OpenFailed(ILogger logger, string path, string errorType, string error);

        [LoggerMessage(EventId = 302, Level = LogLevel.Critical, Message = "Audit write to {Path} failed ({ErrorType}: {Error}); actions are refused until it recovers")]
        public static partial void WriteFailed(ILogger logger, string path, string errorType, string error);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Audit log {Path} ended in a torn line; {Bytes} bytes dropped")]
        public static partial void TornTail(ILogger logger, string path, long bytes);

        [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "Audit log rotated to {Path} at sequence {Seq}")]
        public static partial void Rotated(ILogger logger, string path, long seq);

        [LoggerMessage(EventId = 305, Level = LogLevel.Information, Message = "Audit file {Path} removed by retention (Gateway:Audit:MaxFiles)")]
        public static partial void Retired(ILogger logger, string path);
    }
}
