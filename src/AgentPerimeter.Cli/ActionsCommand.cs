using System.Text.Json;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter actions</c>: actions in flight — intent recorded, outcome not yet — oldest first.</summary>
internal static class ActionsCommand
{
    public static Task<int> RunAsync(Args args) => AdminClient.RunAsync(args, async http =>
    {
        if (args.Positionals.Count > 0)
            throw new ArgsException("usage: perimeter actions [--admin URL]");
        using var doc = JsonDocument.Parse(await http.GetStringAsync("admin/actions?state=in_flight"));
        var actions = doc.RootElement.EnumerateArray().ToList();
        if (actions.Count == 0)
        {
            Console.Out.WriteLine("no action in flight");
            return 0;
        }
        Console.Out.WriteLine($"{"action id",-38} {"age",8} {"agent",-14} {"work type",-15} {"route",-14} target");
        foreach (var a in actions)
        {
            var age = TimeSpan.FromMilliseconds(a.GetProperty("age_ms").GetInt64());
            Console.Out.WriteLine($"{a.GetProperty("id").GetString(),-38} {Format(age),8} {a.GetProperty("agent").GetString(),-14} {a.GetProperty("work_type").GetString(),-15} {a.GetProperty("route").GetString(),-14} {a.GetProperty("method").GetString()} {a.GetProperty("target").GetString()}");
        }
        return 0;
    });

    private static string Format(TimeSpan age) =>
        age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes}m{age.Seconds:00}s" : $"{age.TotalSeconds:0.0}s";
}
