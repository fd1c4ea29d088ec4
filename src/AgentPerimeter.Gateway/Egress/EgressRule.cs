using System.Net;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>One compiled egress rule of a work type: which hosts and ports a sandbox may reach, and how.</summary>
internal sealed class EgressRule
{
    public required string Id { get; init; }

    /// <summary>Exact host names (lower-case) and IP literals.</summary>
    public required IReadOnlySet<string> ExactHosts { get; init; }

    /// <summary>Suffixes of <c>*.suffix</c> patterns, with their leading dot (<c>.pypi.org</c>); they match sub-domains only.</summary>
    public required IReadOnlyList<string> HostSuffixes { get; init; }

    public required IReadOnlySet<int> Ports { get; init; }

    /// <summary>Plain HTTP only: the methods allowed (empty: any).</summary>
    public IReadOnlySet<string> Methods { get; init; } = new HashSet<string>();

    /// <summary>Plain HTTP only: path globs allowed (empty: any).</summary>
    public IReadOnlyList<Glob> Paths { get; init; } = [];

    public RuleMode Mode { get; init; } = RuleMode.Enforce;

    /// <summary>Private, loopback or otherwise refused destinations this rule allows explicitly (e.g. an internal git host).</summary>
    public IReadOnlyList<IPNetwork> AllowCidrs { get; init; } = [];

    /// <summary>
    /// True: a CONNECT tunnel may carry any bytes (e.g. SSH to a git host). False (default): the first
    /// bytes must be a TLS ClientHello whose SNI is the CONNECT host.
    /// </summary>
    public bool Raw { get; init; }

    /// <summary>
    /// The gateway terminates the tunnel's TLS with its own CA, applies <see cref="Methods"/> and <see cref="Paths"/>
    /// to each request, injects the secrets bound to <c>egress:ID</c>, and masks them in answers.
    /// </summary>
    public bool Inspect { get; init; }

    public bool MatchesHost(string host)
    {
        if (ExactHosts.Contains(host))
            return true;
        foreach (var suffix in HostSuffixes)
        {
            if (host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    public bool MatchesRequest(string method, string path)
    {
        if (Methods.Count > 0 && !Methods.Contains(method))
            return false;
        if (Paths.Count == 0)
            return true;
        foreach (var glob in Paths)
        {
            if (glob.IsMatch(path))
                return true;
        }
        return false;
    }
}
