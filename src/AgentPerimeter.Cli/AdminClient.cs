namespace AgentPerimeter.Cli;

/// <summary>Runs a command against the gateway's admin listener, turning "not reachable" into one clear message.</summary>
internal static class AdminClient
{
    public static async Task<int> RunAsync(Args args, Func<HttpClient, Task<int>> command)
    {
        var admin = TokenCommand.AdminUrl(args);
        // The operators' admin token, when the gateway requires one: a file, or the environment.
        string? token;
        if (args.Get("admin-token-file") is { } file)
        {
            try
            {
                token = File.ReadAllText(file).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Cli.Fail($"cannot read the admin token file '{file}': {ex.Message}");
            }
        }
        else
        {
            token = Environment.GetEnvironmentVariable("PERIMETER_ADMIN_TOKEN");
        }
        using var http = new HttpClient(new AnswerCheck { InnerHandler = new HttpClientHandler() }) { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(10) };
        if (!string.IsNullOrEmpty(token))
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        try
        {
            return await command(http);
        }
        catch (AdminAnswerException ex)
        {
            return Cli.Fail(ex.Message, ex.ExitCode);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            return Cli.Fail($"cannot reach the gateway's admin listener at {admin} ({ex.Message}). Is the gateway running? Set --admin or PERIMETER_ADMIN_URL.", Cli.ExitUnavailable);
        }
        catch (HttpRequestException ex)
        {
            return Cli.Fail($"the admin listener at {admin} answered {(int)ex.StatusCode!} {ex.StatusCode}.", Cli.ExitUnavailable);
        }
        catch (TaskCanceledException)
        {
            return Cli.Fail($"the admin listener at {admin} did not answer within 10 s.", Cli.ExitUnavailable);
        }
        catch (System.Text.Json.JsonException)
        {
            return Cli.Fail($"{admin} answered something that is not the gateway's admin API (not JSON). Point --admin at the admin listener (Gateway:Listeners:Admin, default http://127.0.0.1:9090).", Cli.ExitUnavailable);
        }
    }

    private sealed class AdminAnswerException(string message, int exitCode) : Exception(message)
    {
        public int ExitCode { get; } = exitCode;
    }

    /// <summary>Turns the answers that mean "wrong place" or "not allowed" into one clear sentence each.</summary>
    private sealed class AnswerCheck : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var admin = request.RequestUri!.GetLeftPart(UriPartial.Authority);
            // Every answer of the agent listener carries an action id; the admin listener's never do.
            if (response.Headers.Contains(AgentPerimeter.Protocol.PerimeterHeaders.ActionId))
                throw new AdminAnswerException($"{admin} is the gateway's agent listener (where agents connect), not its admin listener. Point --admin (or PERIMETER_ADMIN_URL) at Gateway:Listeners:Admin, default http://127.0.0.1:9090.", Cli.ExitUnavailable);
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
                throw new AdminAnswerException($"admin token required: the admin listener at {admin} refused ({(int)response.StatusCode}). Pass --admin-token-file FILE or set PERIMETER_ADMIN_TOKEN (the gateway's Gateway:Admin:TokenFile).", Cli.ExitRefused);
            return response;
        }
    }
}
