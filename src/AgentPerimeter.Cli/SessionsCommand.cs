using System.Text.Json;
using AgentPerimeter.Protocol;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter sessions list | revoke SESSION_ID | revoke --agent NAME</c>: the kill switch.</summary>
internal static class SessionsCommand
{
    public static Task<int> RunAsync(Args args) => AdminClient.RunAsync(args, http => RunAsync(args, http));

    private static async Task<int> RunAsync(Args args, HttpClient http)
    {
        var verb = args.Positionals.Count > 0 ? args.Positionals[0] : "list";
        switch (verb)
        {
            case "list":
            {
                using var sessions = JsonDocument.Parse(await http.GetStringAsync(PerimeterPaths.AdminSessions));
                using var revoked = JsonDocument.Parse(await http.GetStringAsync("admin/revocations"));
                var revokedSet = revoked.RootElement.EnumerateArray().Select(e => e.GetString()).ToHashSet();
                Console.Out.WriteLine($"{"session",-38} {"agent",-20} {"work type",-16} {"expires",-26} state");
                foreach (var s in sessions.RootElement.EnumerateArray())
                {
                    var id = s.GetProperty("session_id").GetString();
                    var agent = s.GetProperty("agent").GetString();
                    var state = revokedSet.Contains($"session:{id}") || revokedSet.Contains($"agent:{agent}") ? "revoked" : "active";
                    Console.Out.WriteLine($"{id,-38} {agent,-20} {s.GetProperty("work_type").GetString(),-16} {s.GetProperty("expires_at").GetString(),-26} {state}");
                }
                return 0;
            }
            case "revoke":
            {
                string path, what;
                if (args.Get("agent") is { Length: > 0 } agent)
                    (path, what) = ($"admin/agents/{Uri.EscapeDataString(agent)}/revoke", $"agent '{agent}' (every session)");
                else if (args.Positionals.Count == 2)
                    (path, what) = ($"admin/sessions/{Uri.EscapeDataString(args.Positionals[1])}/revoke", $"session '{args.Positionals[1]}'");
                else
                    throw new ArgsException("usage: perimeter sessions revoke SESSION_ID | perimeter sessions revoke --agent NAME");
                var response = await http.PostAsync(path, null);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                    return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {body}", Cli.ExitUnavailable);
                Console.Out.WriteLine($"revoked: {what}");
                using (var answer = JsonDocument.Parse(body))
                {
                    if (answer.RootElement.TryGetProperty("known", out var known) && known.ValueKind == JsonValueKind.False)
                        Console.Error.WriteLine($"perimeter: note: this gateway never issued a token for {what}; check the id (it is revoked all the same, in case it is another replica's or an external issuer's).");
                }
                return 0;
            }
            default:
                throw new ArgsException("usage: perimeter sessions list | revoke SESSION_ID | revoke --agent NAME");
        }
    }
}
