using AgentPerimeter.Protocol.Refusals;
using System.Collections.Frozen;
using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>A constraint on one tool argument: a list of allowed values and/or a glob the value must match.</summary>
public sealed class ArgumentConstraint
{
    public string[]? OneOf { get; init; }
    public Glob? Glob { get; init; }
    public int? MaxLength { get; init; }

    /// <summary>Null when <paramref name="value"/> satisfies the constraint, else why not.</summary>
    public string? Check(string name, System.Text.Json.JsonElement? value)
    {
        if (value is not { } v || v.ValueKind == System.Text.Json.JsonValueKind.Undefined)
            return $"argument '{name}' is required by policy";
        var text = v.ValueKind switch
        {
            System.Text.Json.JsonValueKind.String => v.GetString()!,
            System.Text.Json.JsonValueKind.Number or System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => v.GetRawText(),
            _ => null,
        };
        if (text is null)
            return $"argument '{name}' must be a plain value";
        if (OneOf is not null && !OneOf.Contains(text, StringComparer.Ordinal))
            return $"argument '{name}' must be one of: {string.Join(", ", OneOf)}";
        if (Glob is not null && !PathGuardMiddleware.IsCanonicalValue(text))
            return $"argument '{name}' must be a plain path (no '..', '.', '//', '\\' or percent-encoding)";
        if (Glob is not null && !Glob.IsMatch(text))
            return $"argument '{name}' must match '{Glob.Pattern}'";
        if (MaxLength is { } max && text.Length > max)
            return $"argument '{name}' must be at most {max} characters";
        return null;
    }
}
