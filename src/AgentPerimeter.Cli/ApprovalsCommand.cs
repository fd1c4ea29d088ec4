using System.Net.Http.Json;
using System.Text.Json;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Messages;

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
                var response = await http.GetAsync(PerimeterPaths.AdminApprovals);
                if (!response.IsSuccessStatusCode)
                    return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync()}");
                var approvals = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ListApprovalRecord) ?? [];
                var all = args.Flag("all");
                Console.Out.WriteLine($"{"approval",-38} {"status",-9} {"agent",-16} {"work type",-14} {"action",-28} arguments");
                foreach (var a in approvals)
                {
                    if (!all && a.Status != ApprovalStates.Pending)
                        continue;
                    Console.Out.WriteLine($"{Safe(a.Id),-38} {a.Status,-9} {Safe(a.Agent),-16} {Safe(a.WorkType),-14} {Safe(a.What),-28} {Safe(a.Arguments)}");
                }
                return 0;
            }
            case "approve" or "deny" when args.Positionals.Count == 2:
            {
                var id = args.Positionals[1];
                using var request = new HttpRequestMessage(HttpMethod.Post, PerimeterPaths.Decide(id, approve: verb == "approve"));
                request.Headers.Add(PerimeterHeaders.Operator, Environment.UserName);
                var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                    return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {body}");
                var decided = JsonSerializer.Deserialize(body, ProtocolJsonContext.Default.ApprovalRecord)!;
                Console.Out.WriteLine($"{(verb == "approve" ? "approved" : "denied")}: {Safe(id)} ({Safe(decided.What)} {Safe(decided.Arguments)})");
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
