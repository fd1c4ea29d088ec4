using System.Buffers;
using System.IO.Pipelines;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// Moves bytes between the sandbox's connection and the destination, counting both ways, until either
/// side closes, nothing moves for the idle timeout, or the tunnel is cancelled (revoked). The client's
/// first bytes can be examined (the TLS ClientHello) without consuming them, so they still go upstream.
/// </summary>
internal sealed class EgressRelay(PipeReader client, PipeWriter clientOut, Stream upstream, EgressActionInfo info, TimeSpan idle, TimeProvider time)
{
    private long _lastActivity = time.GetTimestamp();

    /// <summary>Plain HTTP: the status of the destination's answer, once its first line was relayed.</summary>
    public int ResponseStatus { get; private set; }

    /// <param name="IsTls">The first bytes are a TLS ClientHello.</param>
    /// <param name="Sni">The server name it names (null: none).</param>
    /// <param name="Encrypted">It offers Encrypted Client Hello: the name the server sees is hidden from the perimeter.</param>
    public readonly record struct Hello(bool IsTls, string? Sni, bool Encrypted = false);

    /// <summary>Waits for the ClientHello (leaving it unread for the relay); not TLS, malformed or too slow counts as not TLS.</summary>
    public async Task<Hello> ReadClientHelloAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            while (true)
            {
                var result = await client.ReadAsync(limit.Token).ConfigureAwait(false);
                var parsed = TlsClientHello.TryParse(result.Buffer);
                if (parsed.Status != ClientHelloStatus.NeedMoreData || result.IsCompleted)
                {
                    client.AdvanceTo(result.Buffer.Start);
                    return parsed.Status == ClientHelloStatus.Tls ? new Hello(true, parsed.ServerName, parsed.OffersEncryptedClientHello) : new Hello(false, null);
                }
                client.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Hello(false, null);
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watchdog = WatchIdleAsync(stop);
        var up = CopyUpAsync(stop.Token);
        var down = CopyDownAsync(stop.Token);
        var first = await Task.WhenAny(up, down).ConfigureAwait(false);
        if (first == down)
        {
            // The destination is done (or gone): nothing more the sandbox sends matters.
            info.CloseReason ??= "upstream_closed";
            stop.Cancel();
        }
        else
        {
            info.CloseReason ??= "client_closed";
            // The sandbox finished sending: let the destination finish its answer, within the idle timeout.
        }
        try
        {
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        stop.Cancel();
        await watchdog.ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
            info.CloseReason ??= "cancelled";
    }

    private async Task CopyUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var result = await client.ReadAsync(cancellationToken).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    await upstream.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                    info.BytesUp += segment.Length;
                }
                Touch();
                client.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                    break;
            }
            if (upstream is System.Net.Sockets.NetworkStream network)
                network.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
    }

    private async Task CopyDownAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(32 * 1024);
        try
        {
            while (true)
            {
                int n = await upstream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                    break;
                if (ResponseStatus == 0 && info.Mode == "http")
                    ResponseStatus = StatusOf(buffer.AsSpan(0, n));
                await clientOut.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                info.BytesDown += n;
                Touch();
            }
            await clientOut.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task WatchIdleAsync(CancellationTokenSource stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stop.Token).ConfigureAwait(false);
                if (time.GetElapsedTime(Volatile.Read(ref _lastActivity)) > idle)
                {
                    info.CloseReason = "idle";
                    stop.Cancel();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, time.GetTimestamp());

    /// <summary>"HTTP/1.1 200 OK" → 200 (0 when the first bytes are not a status line).</summary>
    private static int StatusOf(ReadOnlySpan<byte> first) =>
        first.Length >= 12 && first.StartsWith("HTTP/1."u8) && first[8] == (byte)' '
        && int.TryParse(System.Text.Encoding.ASCII.GetString(first.Slice(9, 3)), out var status) ? status : 0;
}
