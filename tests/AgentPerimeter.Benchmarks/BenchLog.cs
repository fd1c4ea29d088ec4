using System.Globalization;

namespace AgentPerimeter.Benchmarks;

/// <summary>The benchmark's progress lines on the console, each stamped with the local time.</summary>
internal static class BenchLog
{
    public static void Write(string message) =>
        Console.WriteLine($"[bench {DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}] {message}");
}
