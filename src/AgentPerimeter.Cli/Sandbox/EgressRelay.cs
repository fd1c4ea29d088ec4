using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// The sandbox's only way out: listens on a loopback port inside the namespace and relays every accepted
/// TCP connection, byte for byte in both directions, to the gateway's egress Unix socket (which, being a
/// file, is reachable from any network namespace). It reads nothing and adds nothing — the proxy protocol
/// (absolute-form requests, CONNECT, <c>Proxy-Authorization</c>) is between the command and the gateway.
/// A half-close is passed on, so a request body's end reaches the gateway while its answer still flows.
/// </summary>
internal sealed class EgressRelay : IAsyncDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly Socket _listener;
    private readonly UnixDomainSocketEndPoint _egress;
    private readonly CancellationTokenSource _stopping = new();
    private readonly HashSet<Socket> _open = [];
    private readonly Task _accepting;

    private EgressRelay(Socket listener, UnixDomainSocketEndPoint egress)
    {
        _listener = listener;
        _egress = egress;
        _accepting = AcceptAsync();
    }

    /// <summary>Binds <paramref name="listen"/> and starts relaying to the Unix socket at <paramref name="egressSocket"/>.</summary>
    public static EgressRelay Start(IPEndPoint listen, string egressSocket)
    {
        var egress = new UnixDomainSocketEndPoint(egressSocket);
        var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(listen);
            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new EgressRelay(listener, egress);
    }

    /// <summary>Null when something accepts connections on the egress socket, else why not (checked before a sandbox is made).</summary>
    public static string? WhyUnreachable(string egressSocket)
    {
        // .NET reports a missing socket file as "Cannot assign requested address": say it plainly.
        if (!File.Exists(egressSocket))
            return "there is no such file";
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(egressSocket));
            return null;
        }
        catch (SocketException ex)
        {
            return ex.Message;
        }
        catch (ArgumentOutOfRangeException)
        {
            return "the path is too long for a Unix socket";
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && _stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                // Out of descriptors, say: the command's connection fails, the relay keeps listening.
                Console.Error.WriteLine($"perimeter sandbox: the relay could not accept a connection ({ex.Message}).");
                await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
                continue;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var egress = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using (client)
        {
            if (!Track(client, egress))
                return;
            try
            {
                try
                {
                    await egress.ConnectAsync(_egress, _stopping.Token).ConfigureAwait(false);
                }
                catch (SocketException ex)
                {
                    await RefuseAsync(client, ex).ConfigureAwait(false);
                    return;
                }
                // When one direction fails, closing both sockets ends the other; a clean end is a half-close.
                await Task.WhenAll(PumpAsync(client, egress), PumpAsync(egress, client)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the relay is stopping
            }
            finally
            {
                Untrack(client, egress);
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token).ConfigureAwait(false)) > 0)
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            from.Dispose();
            to.Dispose();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The gateway's socket did not answer: the command (which spoke the proxy protocol to us) gets an HTTP
    /// 502 saying so, not a silent reset. It names no path; the operator's terminal gets the reason once per connection.
    /// </summary>
    private static async Task RefuseAsync(Socket client, SocketException ex)
    {
        Console.Error.WriteLine($"perimeter sandbox: cannot reach the gateway's egress socket ({ex.Message}); a connection was refused.");
        const string body = "The perimeter's egress proxy is not reachable from this sandbox.\n";
        var answer = $"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
        try
        {
            await client.SendAsync(Encoding.ASCII.GetBytes(answer), SocketFlags.None).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // the command has gone already
        }
    }

    private bool Track(Socket client, Socket egress)
    {
        lock (_open)
        {
            if (_stopping.IsCancellationRequested)
                return false;
            _open.Add(client);
            _open.Add(egress);
            return true;
        }
    }

    private void Untrack(Socket client, Socket egress)
    {
        lock (_open)
        {
            _open.Remove(client);
            _open.Remove(egress);
        }
    }

    /// <summary>Stops listening and closes every relayed connection.</summary>
    public async ValueTask DisposeAsync()
    {
        Socket[] open;
        lock (_open)
        {
            _stopping.Cancel();
            open = [.. _open];
        }
        _listener.Dispose();
        foreach (var socket in open)
            socket.Dispose();
        await _accepting.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
