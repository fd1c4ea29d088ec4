using System.Collections.Frozen;
using System.Net;
using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// Loads <c>WorkTypes:NAME:Egress</c> — the hosts, ports and (for plain HTTP) methods and paths a work
/// type's sandboxes may reach — into the policy snapshot's <see cref="EgressCatalog"/>, with every error
/// at once, like the rest of the policy.
/// </summary>
internal sealed class EgressPolicySection : IPolicySectionLoader
{
    private static readonly string[] EgressKeys = ["Rules", "MaxOpenPerSession"];
    private static readonly string[] RuleKeys = ["Id", "Description", "Hosts", "Ports", "Methods", "Paths", "Mode", "AllowCidrs", "Raw", "Inspect"];

    public IReadOnlyCollection<string> RootKeys => [];

    public IReadOnlyCollection<string> WorkTypeKeys => ["Egress"];

    public object Load(PolicySectionContext context)
    {
        var byWorkType = new Dictionary<string, EgressRule[]>(StringComparer.Ordinal);
        var maxOpen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var workType in context.WorkTypes)
        {
            var section = context.Root.GetSection("WorkTypes").GetSection(workType).GetSection("Egress");
            if (!section.Exists())
                continue;
            ConfigReader.CheckKeys(section, EgressKeys, context.Errors);
            if (section["MaxOpenPerSession"] is { } max)
            {
                if (int.TryParse(max, out var m) && m > 0)
                    maxOpen[workType] = m;
                else
                    context.Errors.Add($"{section.Path}:MaxOpenPerSession: must be a positive number of tunnels, e.g. 32.");
            }
            var rules = new List<EgressRule>();
            var rulesSection = section.GetSection("Rules");
            // An empty JSON array ("Rules": []) reaches the configuration as an empty value: no rules, not a mistake.
            if (!string.IsNullOrEmpty(rulesSection.Value))
                context.Errors.Add($"{rulesSection.Path}: must be a list of rules, not a single value.");
            foreach (var ruleSection in rulesSection.GetChildren())
            {
                if (LoadRule(ruleSection, context) is { } rule)
                    rules.Add(rule);
            }
            byWorkType[workType] = [.. rules];
        }
        return new EgressCatalog { ByWorkType = byWorkType.ToFrozenDictionary(StringComparer.Ordinal), MaxOpenPerSession = maxOpen.ToFrozenDictionary(StringComparer.Ordinal) };
    }

    private static EgressRule? LoadRule(IConfigurationSection section, PolicySectionContext context)
    {
        var errors = context.Errors;
        int before = errors.Count;
        ConfigReader.CheckKeys(section, RuleKeys, errors);
        var id = section["Id"];
        if (string.IsNullOrWhiteSpace(id))
            errors.Add($"{section.Path}:Id: every egress rule needs an Id (it names the rule in audit records and metrics), e.g. \"Id\": \"build-pypi\".");
        else if (!context.Ids.Add(id))
            errors.Add($"{section.Path}:Id: id '{id}' is used twice. Rule, limit and egress rule ids must be unique.");

        var exact = new HashSet<string>(StringComparer.Ordinal);
        var suffixes = new List<string>();
        var hosts = ConfigReader.ReadList(section, "Hosts", errors);
        if (hosts is null || hosts.Count == 0)
            errors.Add($"{section.Path}:Hosts: list the host names this rule allows, e.g. [\"github.com\", \"*.pypi.org\"] (a rule with no host allows nothing, so it is refused).");
        foreach (var host in hosts ?? [])
        {
            var h = host.Trim().TrimEnd('.').ToLowerInvariant();
            if (h.StartsWith("*.", StringComparison.Ordinal) && IsHostName(h[2..]))
                suffixes.Add(h[1..]);
            else if (IPAddress.TryParse(h.Trim('[', ']'), out var ip))
                exact.Add(ip.ToString());
            else if (IsHostName(h))
                exact.Add(h);
            else
                errors.Add($"{section.Path}:Hosts: '{host}' is not a host name, '*.suffix' or IP address. '*' alone is not allowed: name the hosts.");
        }

        var ports = new HashSet<int>();
        var portList = ConfigReader.ReadList(section, "Ports", errors);
        if (portList is null || portList.Count == 0)
            errors.Add($"{section.Path}:Ports: list the ports this rule allows, e.g. [443] for HTTPS (CONNECT) or [80] for plain HTTP.");
        foreach (var p in portList ?? [])
        {
            if (int.TryParse(p, out var port) && port is > 0 and <= 65535)
                ports.Add(port);
            else
                errors.Add($"{section.Path}:Ports: '{p}' is not a port (1-65535).");
        }

        var methods = (ConfigReader.ReadList(section, "Methods", errors) ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var m in methods.Where(m => m != m.ToUpperInvariant() || m.Length == 0))
            errors.Add($"{section.Path}:Methods: '{m}' must be an upper-case HTTP method, e.g. \"GET\".");
        var paths = ConfigReader.ReadList(section, "Paths", errors) ?? [];
        var globs = new List<Glob>();
        foreach (var path in paths)
        {
            if (Glob.Validate(path, mustBePath: true) is { } err)
                errors.Add($"{section.Path}:Paths: path pattern {err}.");
            else
                globs.Add(Glob.Parse(path));
        }

        var mode = section["Mode"] ?? "enforce";
        if (mode is not ("enforce" or "report"))
            errors.Add($"{section.Path}:Mode: '{mode}' is not a mode. Use \"enforce\" (default) or \"report\" (allowed, logged as would-deny, counted ungoverned).");

        var cidrs = new List<IPNetwork>();
        foreach (var cidr in ConfigReader.ReadList(section, "AllowCidrs", errors) ?? [])
        {
            // Only a range inside a refused range lifts anything: "0.0.0.0/0" would be a way to switch the guard off.
            if (AddressGuard.TryParseCidr(cidr, out var network, out var problem))
                cidrs.Add(network);
            else
                errors.Add($"{section.Path}:AllowCidrs: {problem}");
        }

        bool raw = false;
        if (section["Raw"] is { } rawText && !bool.TryParse(rawText, out raw))
            errors.Add($"{section.Path}:Raw: must be true or false (true lets a CONNECT tunnel carry bytes that are not TLS, e.g. SSH).");

        bool inspect = false;
        if (section["Inspect"] is { } inspectText && !bool.TryParse(inspectText, out inspect))
            errors.Add($"{section.Path}:Inspect: must be true or false (true: the gateway terminates TLS with its own CA and applies Methods, Paths and secret bindings to each request).");
        if (inspect && raw)
            errors.Add($"{section.Path}: a rule cannot be both Raw (bytes passed unread) and Inspect (TLS terminated and read).");

        if (errors.Count > before || id is null)
            return null;
        return new EgressRule
        {
            Id = id,
            ExactHosts = exact.ToFrozenSet(StringComparer.Ordinal),
            HostSuffixes = suffixes,
            Ports = ports.ToFrozenSet(),
            Methods = methods.ToFrozenSet(StringComparer.Ordinal),
            Paths = globs,
            Mode = mode == "report" ? RuleMode.Report : RuleMode.Enforce,
            AllowCidrs = cidrs,
            Raw = raw,
            Inspect = inspect,
        };
    }

    private static bool IsHostName(string host) =>
        host.Length is > 0 and <= 253 && Uri.CheckHostName(host) == UriHostNameType.Dns && !host.Contains('*');
}
