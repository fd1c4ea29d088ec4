namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// A path-aware glob: <c>*</c> matches within one segment (never <c>/</c>), <c>**</c> matches across
/// segments (including none), <c>?</c> matches one character other than <c>/</c>. Matching is ordinal
/// and case-sensitive, like the paths an upstream receives.
/// </summary>
public sealed class Glob
{
    private readonly string _pattern;
    private readonly bool _literal;

    private Glob(string pattern)
    {
        _pattern = pattern;
        _literal = pattern.IndexOfAny(['*', '?']) < 0;
    }

    public string Pattern => _pattern;

    public static Glob Parse(string pattern) => new(pattern);

    /// <summary>Returns an error text when the pattern cannot be used, otherwise null.</summary>
    public static string? Validate(string pattern, bool mustBePath)
    {
        if (string.IsNullOrWhiteSpace(pattern))
            return "is empty";
        if (pattern.Contains("***", StringComparison.Ordinal))
            return "contains '***'; use '**' to match across segments or '*' within one";
        if (mustBePath)
        {
            if (pattern[0] != '/')
                return $"'{pattern}' must start with '/' (e.g. '/{pattern.TrimStart('/')}')";
            if (pattern.Contains("//", StringComparison.Ordinal) || pattern.Contains('\\') || pattern.Contains('%'))
                return $"'{pattern}' must be a canonical path: no '//', '\\' or percent-encoding";
            foreach (var segment in pattern.Split('/'))
            {
                if (segment is "." or "..")
                    return $"'{pattern}' must not contain '.' or '..' segments";
            }
        }
        return null;
    }

    public bool IsMatch(string value) =>
        _literal ? string.Equals(_pattern, value, StringComparison.Ordinal) : Match(_pattern.AsSpan(), value.AsSpan());

    private static bool Match(ReadOnlySpan<char> p, ReadOnlySpan<char> v)
    {
        while (p.Length > 0)
        {
            char c = p[0];
            if (c == '*')
            {
                bool deep = p.Length > 1 && p[1] == '*';
                var rest = p[(deep ? 2 : 1)..];
                // "/**/" also matches a single "/" (zero segments).
                if (deep && rest.Length > 0 && rest[0] == '/' && Match(rest[1..], v))
                    return true;
                for (int i = 0; i <= v.Length; i++)
                {
                    if (Match(rest, v[i..]))
                        return true;
                    if (i < v.Length && !deep && v[i] == '/')
                        return false;
                }
                return false;
            }
            if (v.Length == 0)
                return false;
            if (c == '?' ? v[0] == '/' : c != v[0])
                return false;
            p = p[1..];
            v = v[1..];
        }
        return v.Length == 0;
    }

    public override string ToString() => _pattern;
}
