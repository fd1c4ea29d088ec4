namespace AgentPerimeter.Cli;

/// <summary>Tiny argument reader: <c>--name value</c>, <c>--flag</c>, and positionals.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    public Args(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = a.IndexOf('=');
                if (eq > 0)
                    _options[a[2..eq]] = a[(eq + 1)..];
                else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    _options[a[2..]] = args[++i];
                else
                    _options[a[2..]] = null;
            }
            else
            {
                _positionals.Add(a);
            }
        }
    }

    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>Refuses any option not in <paramref name="known"/>: a mistyped flag is an error, never silently ignored.</summary>
    public Args Only(IEnumerable<string> known)
    {
        var allowed = known.ToHashSet(StringComparer.Ordinal);
        var unknown = _options.Keys.Where(k => !allowed.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgsException($"unknown option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => "--" + u))}; "
                + (allowed.Count == 0 ? "this command takes none." : $"this command takes {string.Join(", ", allowed.Order(StringComparer.Ordinal).Select(a => "--" + a))}."));
        return this;
    }

    public bool Flag(string name) => _options.ContainsKey(name);

    public string? Get(string name) => _options.TryGetValue(name, out var v) ? v : null;

    public string Required(string name, string example) =>
        Get(name) is { Length: > 0 } v ? v : throw new ArgsException($"--{name} is required (e.g. --{name} {example}).");

    public int? Int(string name) => Get(name) is { } v
        ? int.TryParse(v, out var n) ? n : throw new ArgsException($"--{name} must be a whole number, not '{v}'.")
        : null;
}
