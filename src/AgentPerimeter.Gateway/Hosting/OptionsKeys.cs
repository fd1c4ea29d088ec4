using System.Collections;
using System.Reflection;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>
/// Unknown keys of a configuration section, found by comparing it with the options class it binds to
/// (its public settable properties, recursively), so the known keys are the options classes
/// themselves rather than a list kept by hand beside them.
/// </summary>
internal static class OptionsKeys
{
    public static void Check(IConfigurationSection section, Type optionsType, List<string> errors, IReadOnlySet<string>? freeForm = null)
    {
        var properties = optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (freeForm?.Contains(child.Key) == true)
                continue;
            if (!properties.TryGetValue(child.Key, out var property))
            {
                var known = properties.Keys.Concat(freeForm ?? Enumerable.Empty<string>()).Order(StringComparer.Ordinal);
                errors.Add($"{child.Path}: unknown key '{child.Key}'. Known keys here: {string.Join(", ", known)}.");
                continue;
            }
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsSection(type))
                Check(child, type, errors);
        }
    }

    /// <summary>A nested options object (not a value, not a collection whose keys are data).</summary>
    private static bool IsSection(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(type);
}
