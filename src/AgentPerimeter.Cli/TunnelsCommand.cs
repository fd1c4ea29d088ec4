using System.Text.Json;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter tunnels</c>: declared tunnels, their connectors and open connections.</summary>
internal static class TunnelsCommand
{
    public static Task<int> RunAsync(Args args) => AdminClient.RunAsync(args, async http =>
    {
        var response = await http.GetAsync("admin/tunnels");
        if (!response.IsSuccessStatusCode)
            return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {await response.Content.ReadAsStringAsync()}");
        using var tunnels = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        if (tunnels.RootElement.GetArrayLength() == 0)
        {
            Console.Out.WriteLine("no tunnels declared (Gateway:Tunnels)");
            return 0;
        }
        Console.Out.WriteLine($"{"tunnel",-24} {"state",-6} {"connections",11}  connectors");
        foreach (var t in tunnels.RootElement.EnumerateArray())
        {
            var connections = t.GetProperty("connections").GetInt32();
            var connectors = string.Join(", ", t.GetProperty("connectors").EnumerateArray()
                .Select(c => $"{c.GetProperty("id").GetString()} ({c.GetProperty("connections").GetInt32()})"));
            Console.Out.WriteLine($"{t.GetProperty("tunnel").GetString(),-24} {(connections > 0 ? "up" : "down"),-6} {connections,11}  {(connectors.Length > 0 ? connectors : "-")}");
        }
        return 0;
    });
}
