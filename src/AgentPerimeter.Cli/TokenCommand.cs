using System.Net.Http.Json;
using System.Text.Json;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Messages;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter token</c>: a session token from the gateway's own issuer, printed alone on stdout.</summary>
internal static class TokenCommand
{
    public static Task<int> RunAsync(Args args)
    {
        var workType = args.Required("work-type", "build");
        var agent = args.Required("agent", "ci-bot");
        var ttl = args.Int("ttl");
        return AdminClient.RunAsync(args, http => MintAsync(http, agent, workType, ttl));
    }

    private static async Task<int> MintAsync(HttpClient http, string agent, string workType, int? ttl)
    {
        var (token, exit) = await RequestAsync(http, agent, workType, ttl);
        if (token is not null)
            Console.Out.WriteLine(token);
        return exit;
    }

    /// <summary>
    /// Mints a session token and hands it back without printing it (<c>sandbox run</c> puts it in a
    /// command's environment only). A refusal is reported on stderr: the token is null and the exit code says why.
    /// </summary>
    public static async Task<(string? Token, int Exit)> RequestAsync(HttpClient http, string agent, string workType, int? ttl)
    {
        var response = await http.PostAsJsonAsync(PerimeterPaths.AdminSessions, new SessionTokenRequest(agent, workType, ttl), ProtocolJsonContext.Default.SessionTokenRequest);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            var message = JsonSerializer.Deserialize(body, ProtocolJsonContext.Default.PerimeterRefusal)?.Message ?? response.ReasonPhrase;
            return (null, Cli.Fail($"the gateway refused the session ({(int)response.StatusCode}): {message}", Cli.ExitRefused));
        }
        return (JsonSerializer.Deserialize(body, ProtocolJsonContext.Default.SessionTokenResponse)!.Token, 0);
    }

    public static Uri AdminUrl(Args args)
    {
        var text = args.Get("admin") ?? Environment.GetEnvironmentVariable("PERIMETER_ADMIN_URL") ?? "http://127.0.0.1:9090";
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri))
            throw new ArgsException($"'{text}' is not an admin URL (e.g. http://127.0.0.1:9090).");
        return uri;
    }
}
