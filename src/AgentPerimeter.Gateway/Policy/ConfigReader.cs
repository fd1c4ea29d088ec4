namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// The one way configuration files are read: unknown keys are errors (configuration keys are
/// case-insensitive, so only a key matching none is unknown), lists must be lists, patterns must parse.
/// Every error is collected with where it is and how to fix it; nothing stops at the first.
/// </summary>
public static class ConfigReader
{
    public static Glob[] ReadGlobs(IConfigurationSection parent, string key, List<string> errors, string noun = "pattern")
    {
        var items = ReadList(parent, key, errors);
        if (items is null)
            return [];
        var globs = new List<Glob>();
        foreach (var item in items)
        {
            if (Glob.Validate(item, mustBePath: false) is { } err)
                errors.Add($"{parent.Path}:{key}: {noun} {err}.");
            else
                globs.Add(Glob.Parse(item));
        }
        return [.. globs];
    }

    public static List<string>? ReadList(IConfigurationSection parent, string key, List<string> errors)
    {
        var section = parent.GetSection(key);
        if (!section.Exists())
            return null;
        if (section.Value is not null)
        {
            errors.Add($"{section.Path}: must be a list, e.g. [\"{section.Value}\"], not a single value.");
            return [];
        }
        var items = new List<string>();
        foreach (var child in section.GetChildren())
        {
            if (child.Value is null)
                errors.Add($"{child.Path}: must be a string.");
            else
                items.Add(child.Value);
        }
        return items;
    }

    public static void CheckKeys(IConfigurationSection section, string[] known, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            // Configuration keys are case-insensitive, so only a key that matches none is unknown.
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                errors.Add($"{child.Path}: unknown key '{child.Key}'. Known keys here: {string.Join(", ", known)}.");
        }
    }

    /// <summary>Names of work types, tunnels and the like: lower-case letters, digits and '-'.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');
}
