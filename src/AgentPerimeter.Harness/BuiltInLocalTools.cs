using Microsoft.Extensions.AI;

namespace AgentPerimeter.Harness;

/// <summary>Tools the harness can run itself (outside the perimeter), by name: each call is reported as ungoverned.</summary>
internal static class BuiltInLocalTools
{
    public const string CurrentTime = "current_time";

    public static readonly IReadOnlyList<string> Names = [CurrentTime];

    public static IReadOnlyDictionary<string, AIFunction> Create(TimeProvider time) => new Dictionary<string, AIFunction>(StringComparer.Ordinal)
    {
        [CurrentTime] = AIFunctionFactory.Create(() => time.GetUtcNow().ToString("O"), CurrentTime,
            "The current UTC date and time. Runs locally in the harness, outside the perimeter."),
    };
}
