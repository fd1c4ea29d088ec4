using System.Text.Json;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter approvals list | approve ID | deny ID</c>: the human in the loop.</summary>
internal static class ApprovalsCommand
{
    public static Task<int> RunAsync(Args args) => AdminClient.RunAsync(args, async http =>
    {
        var verb = args.Positionals.Count > 0 ? args.Positionals[0] : "list";
        switch (verb)
        {
            case "list":
            {
                var response = await http.GetAsync("admin/approvals");
                if (!response.IsSuccessStatusCode)
                    return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync()}");
                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var all = args.Flag("all");
                Console.Out.WriteLine($"{"approval",-38} {"status",-9} {"agent",-16} {"work type",-14} {"action",-28} arguments");
                foreach (var a in doc.RootElement.EnumerateArray())
                {
                    var status = a.GetProperty("status").GetString();
                    if (!all && status != "pending")
                        continue;
                    Console.Out.WriteLine($"{Safe(a.GetProperty("id").GetString()),-38} {status,-9} {Safe(a.GetProperty("agent").GetString()),-16} {Safe(a.GetProperty("work_type").GetString()),-14} {Safe(a.GetProperty("what").GetString()),-28} {Safe(a.GetProperty("arguments").ToString())}");
                }
                return 0;
            }
            case "approve" or "deny" when args.Positionals.Count == 2:
            {
                var id = args.Positionals[1];
                using var request = new HttpRequestMessage(HttpMethod.Post, $"admin/approvals/{Uri.EscapeDataString(id)}/{verb}");
                request.Headers.Add(AgentPerimeter.Protocol.PerimeterHeaders.Operator, Environment.UserName);
                var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                    return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {body}");
                using var doc = JsonDocument.Parse(body);
                Console.Out.WriteLine($"{(verb == "approve" ? "approved" : "denied")}: {Safe(id)} ({Safe(doc.RootElement.GetProperty("what").GetString())} {Safe(doc.RootElement.GetProperty("arguments").ToString())})");
                return 0;
            }
            default:
                throw new ArgsException("usage: perimeter approvals list [--all] | approve APPROVAL_ID | deny APPROVAL_ID");
        }
    });

    /// <summary>What an agent chose (tool names, arguments) never drives the operator's terminal: control characters are shown escaped.</summary>
    private static string Safe(string? text) =>
        text is null ? "" : string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
