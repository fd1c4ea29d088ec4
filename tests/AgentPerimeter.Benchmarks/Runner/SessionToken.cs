using System.Net.Http.Json;
using System.Text.Json;

namespace AgentPerimeter.Benchmarks;

/// <summary>The bearer token the load generators send: a session of agent <c>bench</c>, work type <c>build</c>, from a gateway's admin API.</summary>
internal static class SessionToken
{
    public static async Task<string> MintAsync(HttpClient http, Uri admin, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(new Uri(admin, "admin/sessions"),
            new { agent = "bench", workType = "build", ttlSeconds = 28800 }, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"minting a session token failed: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("token").GetString()
            ?? throw new InvalidOperationException("the session response has no token");
    }
}
