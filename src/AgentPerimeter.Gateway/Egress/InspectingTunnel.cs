using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// A CONNECT tunnel to a host whose rule says <c>Inspect</c>: the gateway terminates the sandbox's TLS with
/// a certificate from its own CA (<see cref="EgressCertificateAuthority"/>), reads each HTTP/1.1 request,
/// applies the rule's methods and paths, injects the secrets bound to the rule (<c>"Route": "egress:RULE"</c>
/// in <c>Perimeter:Secrets</c>) so the sandbox never holds them, forwards over its own TLS connection to the
/// address it checked (validating the upstream's certificate), and masks the injected values in what comes
/// back. Bodies are read whole (Content-Length only, up to <see cref="MaxBodyBytes"/>): what cannot be
/// inspected that way is refused, never relayed unread.
/// </summary>
internal sealed class InspectingTunnel(EgressCertificateAuthority authority, SecretScrubber scrubber, SecretStats stats, EgressOptions options, TimeProvider time)
{
    public const long MaxBodyBytes = 16 * 1024 * 1024;

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "Content-Length", "Accept-Encoding",
    };

    public async Task RunAsync(ActionContext action, EgressRule rule, ProxyRequestHead head, IPAddress address, SecretCatalog secrets,
        PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        await using var client = new SslStream(new DuplexPipeStream(input, output));
        try
        {
            await client.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = authority.LeafFor(head.Host),
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            action.Egress!.CloseReason = "client_tls_failed"; // e.g. the sandbox does not trust the gateway's CA
            return;
        }

        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectCallback = async (_, token) =>
            {
                // The address the guard checked, never a new resolution.
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, head.Port), token).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateUpstream },
        };
        using var http = new HttpClient(handler) { Timeout = options.IdleTimeout };
        var reader = new HttpHeadReader(client);
        var entitled = secrets.EntitledFor(action.WorkType!);
        var bindings = secrets.BindingsByRoute.GetValueOrDefault("egress:" + rule.Id) ?? [];
        action.MarkForwarding();
        while (!cancellationToken.IsCancellationRequested)
        {
            string? text;
            try
            {
                text = await reader.ReadHeadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException)
            {
                break;
            }
            if (text is null)
            {
                action.Egress!.CloseReason ??= "client_closed";
                break;
            }
            if (!await HandleAsync(text, action, rule, head, reader, client, http, secrets, bindings, entitled, cancellationToken).ConfigureAwait(false))
                break;
        }
    }

    /// <summary>One request; false when the connection must close.</summary>
    private async Task<bool> HandleAsync(string text, ActionContext action, EgressRule rule, ProxyRequestHead head, HttpHeadReader reader, Stream client,
        HttpClient http, SecretCatalog secrets, IReadOnlyList<SecretBinding> bindings, IReadOnlySet<string> entitled, CancellationToken cancellationToken)
    {
        var info = action.Egress!;
        var lines = text.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[1].StartsWith('/') || requestLine[2] != "HTTP/1.1")
        {
            await RespondAsync(client, 400, "bad_request", "An inspected tunnel carries HTTP/1.1 requests in origin form.", cancellationToken).ConfigureAwait(false);
            return false;
        }
        var (method, target) = (requestLine[0], requestLine[1]);
        var path = target.Split('?')[0];
        var headers = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .Select(p => (Name: p[0].Trim(), Value: p[1].Trim())).ToList();
        if (!rule.MatchesRequest(method, path))
        {
            info.RefusedRequests++;
            await RespondAsync(client, 403, "egress_denied", $"Egress rule '{rule.Id}' does not allow {method} {path} on {head.Host}.", cancellationToken).ConfigureAwait(false);
            return true;
        }
        if (headers.Any(h => h.Name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)))
        {
            await RespondAsync(client, 411, "length_required", "An inspected tunnel needs request bodies with a Content-Length.", cancellationToken).ConfigureAwait(false);
            return false;
        }
        long length = headers.FirstOrDefault(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Value is { } cl
            && long.TryParse(cl, out var n) ? n : 0;
        if (length is < 0 or > MaxBodyBytes)
        {
            await RespondAsync(client, 413, "body_too_large", "The request body is too large to inspect.", cancellationToken).ConfigureAwait(false);
            return false;
        }
        var body = await reader.ReadBodyAsync(length, cancellationToken).ConfigureAwait(false);
        info.BytesUp += text.Length + 4 + body.Length;

        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri($"https://{head.Host}:{head.Port}{target}"));
        request.Version = HttpVersion.Version11;
        request.Content = new ByteArrayContent(body);
        foreach (var (name, value) in headers)
        {
            if (HopByHop.Contains(name))
                continue;
            if (!request.Headers.TryAddWithoutValidation(name, value))
                request.Content.Headers.TryAddWithoutValidation(name, value);
        }
        Inject(request, secrets, bindings, entitled, action);

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength is > MaxBodyBytes)
        {
            await RespondAsync(client, 502, "upstream_response_not_inspectable", "The answer is too large to inspect.", cancellationToken).ConfigureAwait(false);
            return false;
        }
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (answer.Length > MaxBodyBytes)
        {
            await RespondAsync(client, 502, "upstream_response_not_inspectable", "The answer is too large to inspect.", cancellationToken).ConfigureAwait(false);
            return false;
        }
        if (!scrubber.IsEmpty)
        {
            var scrubbed = new System.Buffers.ArrayBufferWriter<byte>(answer.Length + 16);
            scrubber.ScrubChunk(answer, final: true, scrubbed);
            answer = scrubbed.WrittenSpan.ToArray();
        }
        var sb = new StringBuilder($"HTTP/1.1 {(int)response.StatusCode} {response.ReasonPhrase}\r\n");
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (HopByHop.Contains(name))
                continue;
            foreach (var value in values)
                sb.Append(name).Append(": ").Append(scrubber.IsEmpty ? value : scrubber.Scrub(value)).Append("\r\n");
        }
        sb.Append("Content-Length: ").Append(answer.Length).Append("\r\n\r\n");
        var responseHead = Encoding.Latin1.GetBytes(sb.ToString());
        await client.WriteAsync(responseHead, cancellationToken).ConfigureAwait(false);
        await client.WriteAsync(answer, cancellationToken).ConfigureAwait(false);
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
        info.BytesDown += responseHead.Length + answer.Length;
        info.InspectedRequests++;
        action.UpstreamStatus = (int)response.StatusCode;
        return true;
    }

    private void Inject(HttpRequestMessage request, SecretCatalog secrets, IReadOnlyList<SecretBinding> bindings, IReadOnlySet<string> entitled, ActionContext action)
    {
        foreach (var binding in bindings)
        {
            // An agent-supplied value where a binding puts a credential never goes upstream.
            if (binding.Kind == InjectionKind.Header)
                request.Headers.Remove(binding.Name!);
            if (binding.Kind is InjectionKind.Bearer or InjectionKind.Basic)
                request.Headers.Authorization = null;
            if (!entitled.Contains(binding.Secret) || secrets.Secrets[binding.Secret].Read().Value is not { } value)
                continue;
            scrubber.Remember(binding.Secret, value);
            switch (binding.Kind)
            {
                case InjectionKind.Bearer:
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", value);
                    break;
                case InjectionKind.Basic:
                    var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{binding.Username}:{value}"));
                    scrubber.Remember(binding.Secret, basic);
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
                    break;
                case InjectionKind.Header:
                    request.Headers.TryAddWithoutValidation(binding.Name!, binding.Format.Replace("{secret}", value, StringComparison.Ordinal));
                    break;
                default:
                    continue; // query injection is not offered on inspected egress
            }
            if (!action.SecretsInjected.Contains(binding.Secret))
                action.SecretsInjected.Add(binding.Secret);
            stats.Injected(binding.Secret, time.GetUtcNow());
        }
    }

    private bool ValidateUpstream(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
            return true;
        // Only a chain problem can be forgiven, and only by the CA the operator configured for private upstreams.
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || options.UpstreamCaFile is null || certificate is null)
            return false;
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(options.UpstreamCaFile);
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(roots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static async Task RespondAsync(Stream client, int status, string code, string message, CancellationToken cancellationToken)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new { error = code, message });
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {code}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n");
        await client.WriteAsync(head, cancellationToken).ConfigureAwait(false);
        await client.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
