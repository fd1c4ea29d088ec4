using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// The head of one forward-proxy request: <c>CONNECT host:port HTTP/1.1</c> or an absolute-form request
/// (<c>GET http://host/path HTTP/1.1</c>), and its header lines, read strictly: CRLF line ends, no
/// obs-fold, one Host, bounded size. Anything else is refused rather than guessed at.
/// </summary>
internal sealed class ProxyRequestHead
{
    public const int MaxBytes = 16 * 1024;

    public required string Method { get; init; }

    /// <summary>The request target exactly as sent.</summary>
    public required string Target { get; init; }

    public required string Host { get; init; }

    public required int Port { get; init; }

    /// <summary>Absolute-form only: path and query to send upstream in origin form.</summary>
    public string PathAndQuery { get; init; } = "/";

    public required IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; }

    public bool IsConnect => Method == "CONNECT";

    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Reads a head from <paramref name="input"/>; null when the client closed before sending one.</summary>
    public static async Task<(ProxyRequestHead? Head, string? Error)> ReadAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var end = Find(buffer);
            if (end is { } position)
            {
                var headBytes = buffer.Slice(0, position);
                var text = Encoding.Latin1.GetString(headBytes.ToArray());
                input.AdvanceTo(buffer.GetPosition(4, position));
                return Parse(text);
            }
            if (buffer.Length > MaxBytes)
            {
                input.AdvanceTo(buffer.End);
                return (null, $"the request head is larger than {MaxBytes} bytes");
            }
            if (result.IsCompleted)
            {
                input.AdvanceTo(buffer.End);
                return (null, buffer.Length == 0 ? null : "the connection closed in the middle of the request head");
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static SequencePosition? Find(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8, advancePastDelimiter: false) ? reader.Position : null;
    }

    internal static (ProxyRequestHead? Head, string? Error) Parse(string text)
    {
        var lines = text.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || requestLine[2] is not ("HTTP/1.1" or "HTTP/1.0"))
            return (null, "the request line must be 'METHOD TARGET HTTP/1.1'");
        var method = requestLine[0];
        var target = requestLine[1];
        if (method.Length == 0 || !method.All(c => c is >= 'A' and <= 'Z'))
            return (null, "the method must be upper-case letters");

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0)
                continue;
            if (line[0] is ' ' or '\t')
                return (null, "folded header lines are not accepted");
            int colon = line.IndexOf(':');
            if (colon <= 0 || line[..colon].Any(c => c <= ' ' || c >= 0x7f))
                return (null, "a header line is malformed");
            var value = line[(colon + 1)..].Trim();
            if (value.Any(c => c is '\r' or '\n' or '\0'))
                return (null, "a header value holds a control character");
            headers.Add(new(line[..colon], value));
        }

        if (method == "CONNECT")
        {
            if (!TrySplitAuthority(target, out var host, out var port) || port is null)
                return (null, "CONNECT needs 'host:port'");
            return (new ProxyRequestHead { Method = method, Target = target, Host = host, Port = port.Value, Headers = headers }, null);
        }
        if (!target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            return (null, target.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                ? "send https:// URLs with CONNECT (HTTPS_PROXY), not as an absolute-form request"
                : "a forward proxy takes 'CONNECT host:port' or an absolute URL ('GET http://host/path')");
        var rest = target[7..];
        int slash = rest.IndexOfAny(['/', '?']);
        var authority = slash < 0 ? rest : rest[..slash];
        var pathAndQuery = slash < 0 ? "/" : rest[slash] == '?' ? "/" + rest[slash..] : rest[slash..];
        if (authority.Contains('@'))
            return (null, "credentials in the URL are not accepted");
        if (!TrySplitAuthority(authority, out var h, out var p))
            return (null, "the URL's host is malformed");
        if (headers.Count(x => string.Equals(x.Key, "Host", StringComparison.OrdinalIgnoreCase)) > 1)
            return (null, "more than one Host header");
        return (new ProxyRequestHead { Method = method, Target = target, Host = h, Port = p ?? 80, PathAndQuery = pathAndQuery, Headers = headers }, null);
    }

    /// <summary>Splits <c>host[:port]</c> or <c>[v6]:port</c>; the host is lower-cased, a trailing dot dropped.</summary>
    internal static bool TrySplitAuthority(string authority, out string host, out int? port)
    {
        host = "";
        port = null;
        string portText;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']');
            if (close < 0)
                return false;
            host = authority[1..close];
            portText = close + 1 < authority.Length && authority[close + 1] == ':' ? authority[(close + 2)..] : "";
            if (!System.Net.IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                return false;
            host = v6.ToString();
        }
        else
        {
            int colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? "" : authority[(colon + 1)..];
            if (host.Contains(':'))
                return false;
        }
        if (portText.Length > 0)
        {
            if (!int.TryParse(portText, System.Globalization.NumberStyles.None, null, out var p) || p is < 1 or > 65535)
                return false;
            port = p;
        }
        host = host.TrimEnd('.').ToLowerInvariant();
        return host.Length is > 0 and <= 253
            && (System.Net.IPAddress.TryParse(host, out _) || Uri.CheckHostName(host) == UriHostNameType.Dns);
    }
}
