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
}
