using System.Net.Sockets;
using System.Text;

namespace AgentPerimeter.Testing;

/// <summary>
/// Sends a request line byte for byte: HttpClient normalizes dot segments and escapes, which would
/// hide exactly the path tricks the tests must send.
/// </summary>
public static class RawHttp
{
    public static async Task<(int Status, string Response)> SendAsync(Uri baseUri, string method, string rawTarget, string? token, string? extraHeaders = null, string? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(baseUri.Host, baseUri.Port);
        await using var stream = client.GetStream();
        var request = new StringBuilder()
            .Append($"{method} {rawTarget} HTTP/1.1\r\n")
            .Append($"Host: {baseUri.Authority}\r\n");
        if (token is not null)
            request.Append($"Authorization: Bearer {token}\r\n");
        if (extraHeaders is not null)
            request.Append(extraHeaders);
        request.Append("Connection: close\r\n\r\n");
        if (body is not null)
            request.Append(body);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var statusLine = response.Split("\r\n")[0];
        return (int.Parse(statusLine.Split(' ')[1]), response);
    }

    /// <summary>
    /// Writes <paramref name="wire"/> as is (several requests back to back) and returns the status of
    /// each response, read in order until the gateway closes the connection.
    /// </summary>
    public static async Task<List<int>> SendWireAsync(Uri baseUri, string wire)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(baseUri.Host, baseUri.Port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(wire));
        var statuses = new List<int>();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (!line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
                continue;
            statuses.Add(int.Parse(line.Split(' ')[1]));
            long length = 0;
            bool chunked = false;
            while (await reader.ReadLineAsync(timeout.Token) is { Length: > 0 } header)
            {
                if (header.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    length = long.Parse(header["Content-Length:".Length..].Trim());
                chunked |= header.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && header.Contains("chunked", StringComparison.OrdinalIgnoreCase);
            }
            if (!chunked)
            {
                await reader.ReadBlockAsync(new char[length], timeout.Token);
                continue;
            }
            while (await reader.ReadLineAsync(timeout.Token) is { } sizeLine)
            {
                int size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    while (await reader.ReadLineAsync(timeout.Token) is { Length: > 0 })
                    {
                    }
                    break;
                }
                await reader.ReadBlockAsync(new char[size], timeout.Token);
                await reader.ReadLineAsync(timeout.Token);
            }
        }
        return statuses;
    }
}
