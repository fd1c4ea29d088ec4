namespace AgentPerimeter.Cli;

/// <summary>Runs a command against the gateway's admin listener, turning "not reachable" into one clear message.</summary>
internal static class AdminClient
{
    public static async Task<int> RunAsync(Args args, Func<HttpClient, Task<int>> command)
    {
        var admin = TokenCommand.AdminUrl(args);
        using var http = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(10) };
        // The operators' admin token, when the gateway requires one: a file, or the environment.
        var token = args.Get("admin-token-file") is { } file ? File.ReadAllText(file).Trim() : Environment.GetEnvironmentVariable("PERIMETER_ADMIN_TOKEN");
        if (!string.IsNullOrEmpty(token))
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        try
        {
            return await command(http);
        }
        catch (HttpRequestException ex)
        {
            return Cli.Fail($"cannot reach the gateway's admin listener at {admin} ({ex.Message}). Is the gateway running? Set --admin or PERIMETER_ADMIN_URL.");
        }
    }
}
