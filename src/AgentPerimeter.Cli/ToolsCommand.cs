using System.Text.Json;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter tools list</c> and <c>perimeter tools approve ROUTE TOOL</c>: pinned MCP tool definitions.</summary>
internal static class ToolsCommand
{
    public static Task<int> RunAsync(Args args) => AdminClient.RunAsync(args, http => RunAsync(args, http));

    private static async Task<int> RunAsync(Args args, HttpClient http)
    {
        var verb = args.Positionals.Count > 0 ? args.Positionals[0] : "list";
        switch (verb)
        {
            case "list":
            {
                using var doc = JsonDocument.Parse(await http.GetStringAsync("admin/tools"));
                Console.Out.WriteLine($"{"route",-16} {"tool",-24} {"status",-9} {"hash",-12} latest description");
                foreach (var t in doc.RootElement.EnumerateArray())
                {
                    var hash = t.GetProperty("latest_hash").GetString() ?? "";
                    Console.Out.WriteLine($"{t.GetProperty("route").GetString(),-16} {t.GetProperty("tool").GetString(),-24} {t.GetProperty("status").GetString(),-9} {hash[..Math.Min(12, hash.Length)],-12} {t.GetProperty("latest_description").GetString()}");
                    // A withheld tool shows what changed, so the operator approves a diff they read.
                    if (t.TryGetProperty("changes", out var changes))
                    {
                        foreach (var c in changes.EnumerateArray())
                        {
                            var path = c.GetProperty("path").GetString() is { Length: > 0 } p ? p : "(whole definition)";
                            Console.Out.WriteLine($"    {path}: {Shown(c.GetProperty("approved"))} -> {Shown(c.GetProperty("latest"))}");
                        }
                    }
                }
                return 0;
            }
            case "approve" when args.Positionals.Count == 3:
            {
                var route = Uri.EscapeDataString(args.Positionals[1]);
                var tool = Uri.EscapeDataString(args.Positionals[2]);
                var hash = args.Get("hash");
                var query = hash is null ? "" : "?hash=" + Uri.EscapeDataString(hash);
                var response = await http.PostAsync($"admin/tools/{route}/{tool}/approve{query}", null);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                    return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {body}");
                Console.Out.WriteLine($"approved: tool '{args.Positionals[2]}' on route '{args.Positionals[1]}'");
                return 0;
            }
            default:
                throw new ArgsException("usage: perimeter tools list | perimeter tools approve ROUTE TOOL [--hash HASH]");
        }
    }

    private static string Shown(JsonElement value) => value.ValueKind == JsonValueKind.Null ? "(absent)" : value.GetString()!;
}
