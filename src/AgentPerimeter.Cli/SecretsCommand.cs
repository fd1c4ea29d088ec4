using System.Text.Json;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter secrets</c>: the secret inventory — where each secret lives, who injects it, what it enables. Never a value.</summary>
internal static class SecretsCommand
{
    public static Task<int> RunAsync(Args args) => AdminClient.RunAsync(args, http => RunAsync(args, http));

    private static async Task<int> RunAsync(Args args, HttpClient http)
    {
        var json = await http.GetStringAsync("admin/secrets");
        using var doc = JsonDocument.Parse(json);
        if (args.Flag("json"))
        {
            Console.Out.WriteLine(json);
            return 0;
        }
        foreach (var s in doc.RootElement.EnumerateArray())
        {
            var source = s.GetProperty("source");
            var last = s.GetProperty("last_injected");
            Console.Out.WriteLine($"{s.GetProperty("name").GetString()}{(s.GetProperty("available").GetBoolean() ? "" : "  (UNAVAILABLE)")}");
            Console.Out.WriteLine($"  source      {source.GetProperty("kind").GetString()} {source.GetProperty("location").GetString()}");
            foreach (var b in s.GetProperty("bindings").EnumerateArray())
                Console.Out.WriteLine($"  injects     route {b.GetProperty("route").GetString()} as {b.GetProperty("inject").GetString()} (not entitled: {b.GetProperty("when_not_entitled").GetString()})");
            Console.Out.WriteLine($"  work types  {string.Join(", ", s.GetProperty("work_types").EnumerateArray().Select(w => w.GetString()))}");
            Console.Out.WriteLine($"  used        {s.GetProperty("injections").GetInt64()} injections, last {(last.ValueKind == JsonValueKind.Null ? "never" : last.GetString())}");
        }
        return 0;
    }
}
