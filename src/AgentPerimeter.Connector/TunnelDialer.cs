using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Tunnels;
using Microsoft.AspNetCore.Connections;

namespace AgentPerimeter.Connector;

/// <summary>Keeps <see cref="ConnectorOptions.IdleConnections"/> idle connections open to one gateway; reconnects with backoff and jitter.</summary>
internal sealed partial class TunnelDialer(
    ConnectorOptions options,
    Uri gateway,
    ConnectorState state,
    ILogger logger,
    ChannelWriter<ConnectionContext> accepted,
    Action<ConnectorRefusedException> refused)
{
    private readonly SemaphoreSlim _signal = new(0);
    private int _idle, _total;
    private bool _connected;

    private string GatewayName => gateway.GetLeftPart(UriPartial.Authority);

    public async Task RunAsync(CancellationToken stopping)
    {
        var target = TunnelHandshake.ConnectUri(gateway, options.Tunnel);
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
                socket = await DialAsync(target, stopping).ConfigureAwait(false);
            }
            catch (ConnectorRefusedException refusal)
            {
                Log.Refused(logger, options.Tunnel, GatewayName, refusal.Status, refusal.Code);
                refused(refusal);
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
                    Log.Lost(logger, options.Tunnel, GatewayName);
                }
                Log.DialFailed(logger, options.Tunnel, GatewayName, failures, ex.GetType().Name, ex.Message, delay.TotalMilliseconds);
                try { await Task.Delay(delay, stopping).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                continue;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                break; // a dial that failed as the connector stops (the gateway already gone): nothing to retry
            }
            failures = 0;
            Interlocked.Increment(ref _idle);
            Interlocked.Increment(ref _total);
            Interlocked.Increment(ref state.OpenConnections);
            var connection = new TunnelConnectionContext(socket, OnFirstByte, OnClosed);
            if (!_connected)
            {
                _connected = true;
                Log.Connected(logger, options.Tunnel, GatewayName, options.IdleConnections);
            }
            if (!accepted.TryWrite(connection))
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
        Interlocked.Decrement(ref state.OpenConnections);
        _signal.Release();
    }

    private async Task<ClientWebSocket> DialAsync(Uri target, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"{TunnelHandshake.AuthorizationScheme} {options.Credential}");
        socket.Options.SetRequestHeader(TunnelHandshake.ConnectorHeader, options.InstanceId);
        socket.Options.KeepAliveInterval = TunnelHandshake.KeepAliveInterval;
        socket.Options.KeepAliveTimeout = TunnelHandshake.KeepAliveTimeout;
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
            && socket.HttpResponseHeaders?.ContainsKey(PerimeterHeaders.Error) == true)
        {
            var code = string.Join(",", socket.HttpResponseHeaders![PerimeterHeaders.Error]);
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
