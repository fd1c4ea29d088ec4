using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace AgentPerimeter.Connector;

/// <summary>The gateway refused this connector (wrong credential, another tunnel's credential, unknown tunnel): retrying cannot help.</summary>
public sealed class ConnectorRefusedException(int status, string code, Uri gateway)
    : Exception($"The gateway {gateway.GetLeftPart(UriPartial.Authority)} refused this connector: HTTP {status} {code}.")
{
    public int Status { get; } = status;
    public string Code { get; } = code;
}

/// <summary>Kestrel "listens" on this endpoint by dialing out to the gateway(s).</summary>
internal sealed class TunnelEndPoint(ConnectorOptions options) : EndPoint
{
    public ConnectorOptions Options { get; } = options;

    public override string ToString() => $"tunnel '{Options.Tunnel}' via {string.Join(", ", Options.Gateways.Select(g => g.GetLeftPart(UriPartial.Authority)))}";
}

/// <summary>
/// A Kestrel transport whose connections are dialed, not accepted: each one is a WebSocket the
/// connector opens to the gateway's tunnel listener, over which the gateway then speaks HTTP/1.1 to
/// this connector's Kestrel. So the private server needs no inbound port: only outbound connections
/// leave its network.
/// </summary>
internal sealed class TunnelTransportFactory(ConnectorState state, ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is TunnelEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = new TunnelListener((TunnelEndPoint)endpoint, state, loggers.CreateLogger("AgentPerimeter.Connector.Tunnel"));
        listener.Start();
        return ValueTask.FromResult<IConnectionListener>(listener);
    }
}

/// <summary>What the connector reports back to its host: a fatal refusal ends the process.</summary>
public sealed class ConnectorState
{
    public ConnectorRefusedException? Refusal { get; set; }
    public Action? Stop { get; set; }

    /// <summary>Connections currently open to the gateways (idle and busy).</summary>
    public int OpenConnections;
}

internal sealed partial class TunnelListener(TunnelEndPoint endpoint, ConnectorState state, ILogger logger) : IConnectionListener
{
    private readonly Channel<ConnectionContext> _accepted = Channel.CreateUnbounded<ConnectionContext>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _dialers = [];

    public EndPoint EndPoint => endpoint;

    public void Start()
    {
        foreach (var gateway in endpoint.Options.Gateways)
            _dialers.Add(Task.Run(() => new Dialer(this, gateway).RunAsync()));
    }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _stopping.Cancel();
        _accepted.Writer.TryComplete();
        try
        {
            // The dialers stop at once; a host disposed without stopping passes an already-cancelled token.
            await Task.WhenAll(_dialers).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Keeps <see cref="ConnectorOptions.IdleConnections"/> idle connections open to one gateway; reconnects with backoff and jitter.</summary>
    private sealed class Dialer(TunnelListener owner, Uri gateway)
    {
        private readonly SemaphoreSlim _signal = new(0);
        private int _idle, _total;
        private bool _connected;

        public async Task RunAsync()
        {
            var options = owner.EndPoint is TunnelEndPoint ep ? ep.Options : throw new InvalidOperationException();
            var stopping = owner._stopping.Token;
            var target = TunnelUri(gateway, options.Tunnel);
            int failures = 0;
            while (!stopping.IsCancellationRequested)
            {
                if (Volatile.Read(ref _idle) >= options.IdleConnections || Volatile.Read(ref _total) >= options.MaxConnections)
                {
                    try { await _signal.WaitAsync(TimeSpan.FromSeconds(1), stopping).ConfigureAwait(false); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                ClientWebSocket socket;
                try
                {
                    socket = await DialAsync(target, options, stopping).ConfigureAwait(false);
                }
                catch (ConnectorRefusedException refused)
                {
                    Log.Refused(owner._logger, options.Tunnel, gateway.GetLeftPart(UriPartial.Authority), refused.Status, refused.Code);
                    owner._state.Refusal ??= refused;
                    // One replica refusing (a config rollout in progress) must not take the others down:
                    // the connector gives up only when every gateway it serves has refused it.
                    if (Interlocked.Increment(ref owner._refusedGateways) == options.Gateways.Count)
                        owner._state.Stop?.Invoke();
                    return;
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested)
                {
                    failures++;
                    // Exponential backoff from 250 ms to 30 s, each delay drawn from its upper half so
                    // a fleet of connectors does not reconnect in lockstep after a gateway restart.
                    var ceiling = Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures - 1, 10)));
                    var delay = TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
                    if (_connected && Volatile.Read(ref _total) == 0)
                    {
                        _connected = false;
                        Log.Lost(owner._logger, options.Tunnel, gateway.GetLeftPart(UriPartial.Authority));
                    }
                    Log.DialFailed(owner._logger, options.Tunnel, gateway.GetLeftPart(UriPartial.Authority), failures, ex.GetType().Name, ex.Message, delay.TotalMilliseconds);
                    try { await Task.Delay(delay, stopping).ConfigureAwait(false); }
                    catch (OperationCanceledException) { break; }
                    continue;
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                failures = 0;
                Interlocked.Increment(ref _idle);
                Interlocked.Increment(ref _total);
                Interlocked.Increment(ref owner._state.OpenConnections);
                var connection = new TunnelConnectionContext(socket, OnFirstByte, OnClosed);
                if (!_connected)
                {
                    _connected = true;
                    Log.Connected(owner._logger, options.Tunnel, gateway.GetLeftPart(UriPartial.Authority), options.IdleConnections);
                }
                if (!owner._accepted.Writer.TryWrite(connection))
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    break;
                }
            }
        }

        private void OnFirstByte()
        {
            // The gateway took this connection for a request: open a replacement so one stays ready.
            Interlocked.Decrement(ref _idle);
            _signal.Release();
        }

        private void OnClosed(bool wasIdle)
        {
            if (wasIdle)
                Interlocked.Decrement(ref _idle);
            Interlocked.Decrement(ref _total);
            Interlocked.Decrement(ref owner._state.OpenConnections);
            _signal.Release();
        }

        private static Uri TunnelUri(Uri gateway, string tunnel)
        {
            var builder = new UriBuilder(gateway)
            {
                Scheme = gateway.Scheme is "https" or "wss" ? "wss" : "ws",
            };
            builder.Path = builder.Path.TrimEnd('/') + "/tunnels/" + Uri.EscapeDataString(tunnel);
            return builder.Uri;
        }

        private static async Task<ClientWebSocket> DialAsync(Uri target, ConnectorOptions options, CancellationToken cancellationToken)
        {
            var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("Authorization", "Bearer " + options.Credential);
            socket.Options.SetRequestHeader("X-Perimeter-Connector", options.InstanceId);
            socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
            socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            socket.Options.CollectHttpResponseDetails = true;
            if (options.TrustedCaFile is { } caFile)
                socket.Options.RemoteCertificateValidationCallback = TrustedCa(caFile);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                await socket.ConnectAsync(target, timeout.Token).ConfigureAwait(false);
                return socket;
            }
            // Final only when the gateway itself refused (a proxy's 401/404 in between is retried).
            catch (Exception) when (socket.HttpStatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound
                && socket.HttpResponseHeaders?.ContainsKey("X-Perimeter-Error") == true)
            {
                var code = string.Join(",", socket.HttpResponseHeaders!["X-Perimeter-Error"]);
                var status = (int)socket.HttpStatusCode;
                socket.Dispose();
                throw new ConnectorRefusedException(status, code, target);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        private static System.Net.Security.RemoteCertificateValidationCallback TrustedCa(string caFile)
        {
            var authority = new X509Certificate2Collection();
            authority.ImportFromPemFile(caFile);
            return (_, certificate, presented, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                    return true;
                if (certificate is null || errors.HasFlag(System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch))
                    return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(authority);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.DisableCertificateDownloads = true;
                chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")); // server authentication
                if (presented is not null)
                {
                    foreach (var element in presented.ChainElements)
                        chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
                using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                return chain.Build(leaf);
            };
        }
    }

    private readonly ILogger _logger = logger;
    private int _refusedGateways;
    private readonly ConnectorState _state = state;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Tunnel {Tunnel}: connected to {Gateway}, keeping {Idle} idle connections ready")]
        public static partial void Connected(ILogger logger, string tunnel, string gateway, int idle);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Tunnel {Tunnel}: connecting to {Gateway} failed (attempt {Attempt}: {ErrorType}: {Error}); retrying in {DelayMs:0} ms")]
        public static partial void DialFailed(ILogger logger, string tunnel, string gateway, int attempt, string errorType, string error, double delayMs);

        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Tunnel {Tunnel}: lost every connection to {Gateway}; reconnecting")]
        public static partial void Lost(ILogger logger, string tunnel, string gateway);

        [LoggerMessage(EventId = 4, Level = LogLevel.Critical, Message = "Tunnel {Tunnel}: the gateway {Gateway} refused this connector (HTTP {Status}, {Code}). Check --tunnel and the credential; not retrying.")]
        public static partial void Refused(ILogger logger, string tunnel, string gateway, int status, string code);
    }
}

/// <summary>
/// One dialed connection as Kestrel sees it: the WebSocket's bytes as a duplex pipe. Like Kestrel's
/// socket transport, the input is read continuously (bounded by the pipe's back-pressure), so a
/// connection the gateway closes mid-request (its client went away) aborts the request at once, and
/// the cancellation reaches the private server.
/// </summary>
internal sealed class TunnelConnectionContext : ConnectionContext
{
    private static long s_ids;
    private readonly WebSocketByteStream _stream;
    private readonly CancellationTokenSource _closed = new();
    private readonly Action<bool> _onClosed;
    private readonly Pipe _input = new(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
    private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
    private readonly Task _pump;
    private readonly Task _sender;
    private int _disposed;

    public TunnelConnectionContext(WebSocket socket, Action onFirstByte, Action<bool> onClosed)
    {
        _onClosed = onClosed;
        _stream = new WebSocketByteStream(socket, onFirstByte, SignalClosed);
        ConnectionId = "tunnel-" + Interlocked.Increment(ref s_ids);
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        _pump = Task.Run(PumpAsync);
        _sender = Task.Run(SendAsync);
    }

    public override string ConnectionId { get; set; }
    public override IFeatureCollection Features { get; } = new FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }
    public override CancellationToken ConnectionClosed { get => _closed.Token; set { } }

    private async Task PumpAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = _input.Writer.GetMemory(16 * 1024);
                int n = await _stream.ReadAsync(memory).ConfigureAwait(false);
                if (n == 0)
                    break;
                _input.Writer.Advance(n);
                var flush = await _input.Writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                    break;
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }
        SignalClosed();
        await _input.Writer.CompleteAsync(error).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends what Kestrel wrote, everything pending at once as one WebSocket frame (as Kestrel's socket
    /// transport coalesces its sends): fewer frames, masks and system calls per answer.
    /// </summary>
    private async Task SendAsync()
    {
        byte[]? scratch = null;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await _output.Reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    if (buffer.IsSingleSegment)
                    {
                        await _stream.WriteAsync(buffer.First).ConfigureAwait(false);
                        break;
                    }
                    int n = (int)Math.Min(buffer.Length, 64 * 1024);
                    scratch ??= System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
                    buffer.Slice(0, n).CopyTo(scratch);
                    await _stream.WriteAsync(scratch.AsMemory(0, n)).ConfigureAwait(false);
                    buffer = buffer.Slice(n);
                }
                _output.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                    break;
            }
        }
        catch (Exception ex)
        {
            error = ex;
            SignalClosed();
        }
        finally
        {
            if (scratch is not null)
                System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
            await _output.Reader.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private void SignalClosed()
    {
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        _stream.Abort();
        SignalClosed();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await Transport.Output.CompleteAsync().ConfigureAwait(false);
        // Let the last answer leave before the connection goes (bounded: a dead peer cannot hold it).
        await _sender.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stream.Abort();
        await _pump.ConfigureAwait(false);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        _stream.Dispose();
        _onClosed(!_stream.SawFirstByte);
        _closed.Dispose();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}

/// <summary>A WebSocket read and written as a plain byte stream (message boundaries carry no meaning).</summary>
internal sealed class WebSocketByteStream(WebSocket socket, Action onFirstByte, Action onEnd) : Stream
{
    private int _sawFirst;

    public bool SawFirstByte => Volatile.Read(ref _sawFirst) == 1;

    public void Abort() => socket.Abort();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValueWebSocketReceiveResult result;
        try
        {
            do
                result = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            while (result.Count == 0 && buffer.Length > 0 && result.MessageType != WebSocketMessageType.Close);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            onEnd();
            throw new IOException("The tunnel connection to the gateway was lost.", ex);
        }
        if (result.MessageType == WebSocketMessageType.Close)
        {
            onEnd();
            return 0;
        }
        if (result.Count > 0 && Interlocked.Exchange(ref _sawFirst, 1) == 0)
            onFirstByte();
        return result.Count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            await socket.SendAsync(buffer, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            onEnd();
            throw new IOException("The tunnel connection to the gateway was lost.", ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override void Flush() { }
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            socket.Dispose();
        base.Dispose(disposing);
    }
}
