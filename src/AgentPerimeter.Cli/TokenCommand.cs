using System.Net.Http.Json;
using System.Text.Json;

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
        var response = await http.PostAsJsonAsync("admin/sessions", new { agent, workType, ttlSeconds = ttl });
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (!response.IsSuccessStatusCode)
        {
            var message = doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() : response.ReasonPhrase;
            return Cli.Fail($"the gateway refused the session ({(int)response.StatusCode}): {message}");
        }
        Console.Out.WriteLine(doc.RootElement.GetProperty("token").GetString());
        return 0;
    }

    public static Uri AdminUrl(Args args)
    {
        var text = args.Get("admin") ?? Environment.GetEnvironmentVariable("PERIMETER_ADMIN_URL") ?? "http://127.0.0.1:9090";
        if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var uri))
            throw new ArgsException($"'{text}' is not an admin URL (e.g. http://127.0.0.1:9090).");
        return uri;
    }
}
