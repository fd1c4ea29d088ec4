using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace AgentPerimeter.Gateway.Policy;

/// <summary>
/// Validates and compiles the <c>Perimeter</c> configuration section. Like YARP's ConfigValidator it
/// collects every error (unknown keys included) and says how to fix each one; it never stops at the first.
/// </summary>
public static class PolicyLoader
{
    public const string SectionName = "Perimeter";

    private static readonly string[] RootKeys = ["WorkTypes"];
    private static readonly string[] WorkTypeKeys = ["Description", "Agents", "Rules"];
    private static readonly string[] RuleKeys = ["Id", "Description", "Route", "Methods", "Paths", "Mode", "Tools", "Resources", "Prompts", "Arguments", "ParamHeaders", "Approval"];
    private static readonly string[] ArgumentKeys = ["OneOf", "Glob", "MaxLength"];

    private static readonly FrozenSet<string> KnownMethods =
        new[] { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Loads the policy from a configuration root that has a <c>Perimeter</c> section.</summary>
    /// <param name="configuration">Configuration holding the <c>Perimeter</c> section.</param>
    /// <param name="knownRoutes">Route ids of the proxy configuration; null skips the cross-check.</param>
    /// <param name="sections">The sections other features own (secrets, rate limits), compiled into the same snapshot.</param>
    public static PolicyLoadResult Load(IConfiguration configuration, IReadOnlySet<string>? knownRoutes, IEnumerable<IPolicySectionLoader>? sections = null)
    {
        var loaders = sections?.ToArray() ?? [];
        string[] rootKeys = [.. RootKeys, .. loaders.SelectMany(l => l.RootKeys)];
        string[] workTypeKeys = [.. WorkTypeKeys, .. loaders.SelectMany(l => l.WorkTypeKeys)];
        // MCP rules only make sense on routes whose traffic is inspected as MCP.
        var mcpRoutes = knownRoutes is null ? null : PolicyStore.McpRoutes(configuration);
        var errors = new List<string>();
        var root = configuration.GetSection(SectionName);
        if (!root.Exists())
        {
            errors.Add($"{SectionName}: section is missing. Add {{ \"{SectionName}\": {{ \"WorkTypes\": {{ ... }} }} }} to the policy file.");
            return new PolicyLoadResult(null, errors);
        }

        ConfigReader.CheckKeys(root, rootKeys, errors);
        var workTypesSection = root.GetSection("WorkTypes");
        var workTypes = new Dictionary<string, WorkTypePolicy>(StringComparer.Ordinal);
        var ruleIds = new HashSet<string>(StringComparer.Ordinal);

        if (!workTypesSection.GetChildren().Any())
            errors.Add($"{workTypesSection.Path}: no work types are defined. Define at least one, e.g. \"exploration\": {{ \"Rules\": [ ... ] }}.");

        foreach (var wtSection in workTypesSection.GetChildren())
        {
            var name = wtSection.Key;
            if (!ConfigReader.IsValidName(name))
                errors.Add($"{wtSection.Path}: work type name '{name}' is invalid. Use lower-case letters, digits and '-' (e.g. 'sensitive-data').");
            ConfigReader.CheckKeys(wtSection, workTypeKeys, errors);

            // No Agents list: any agent may start a session of this work type.
            Glob[] agentGlobs = wtSection.GetSection("Agents").Exists()
                ? ConfigReader.ReadGlobs(wtSection, "Agents", errors, "agent pattern")
                : [Glob.Parse("*")];

            var rules = new List<PolicyRule>();
            var rulesSection = wtSection.GetSection("Rules");
            // An empty JSON array ("Rules": []) reaches the configuration as an empty value: no rules, not a mistake.
            if (!string.IsNullOrEmpty(rulesSection.Value))
                errors.Add($"{rulesSection.Path}: must be a list of rules, not a single value.");
            foreach (var ruleSection in rulesSection.GetChildren())
            {
                if (LoadRule(ruleSection, knownRoutes, mcpRoutes, ruleIds, errors) is { } rule)
                    rules.Add(rule);
            }

            workTypes[name] = new WorkTypePolicy
            {
                Name = name,
                Description = wtSection["Description"],
                Agents = agentGlobs,
                Rules = rules,
                RulesByRoute = rules
                    .GroupBy(r => r.Route, StringComparer.Ordinal)
                    .ToFrozenDictionary(
                        g => g.Key,
                        g => g.OrderBy(r => r.Mode == RuleMode.Enforce ? 0 : 1).ToArray(),
                        StringComparer.Ordinal),
            };
        }

        var context = new PolicySectionContext(root, knownRoutes, [.. workTypes.Keys], ruleIds, errors);
        var compiled = new Dictionary<Type, object>();
        foreach (var loader in loaders)
        {
            var section = loader.Load(context);
            compiled[section.GetType()] = section;
        }

        if (errors.Count > 0)
            return new PolicyLoadResult(null, errors);

        return new PolicyLoadResult(new PerimeterPolicy
        {
            WorkTypes = workTypes.ToFrozenDictionary(StringComparer.Ordinal),
            Sections = compiled.ToFrozenDictionary(),
            ApprovalRules = workTypes.Values.SelectMany(w => w.Rules).Where(r => r.RequireApproval).Select(r => r.Id).ToFrozenSet(StringComparer.Ordinal),
            Version = Fingerprint(root),
        }, errors);
    }

    private static PolicyRule? LoadRule(IConfigurationSection section, IReadOnlySet<string>? knownRoutes, IReadOnlySet<string>? mcpRoutes, HashSet<string> ruleIds, List<string> errors)
    {
        int before = errors.Count;
        ConfigReader.CheckKeys(section, RuleKeys, errors);

        var id = section["Id"];
        if (string.IsNullOrWhiteSpace(id))
            errors.Add($"{section.Path}:Id: every rule needs an Id (it names the rule in audit records and metrics), e.g. \"Id\": \"build-read-repos\".");
        else if (!ruleIds.Add(id))
            errors.Add($"{section.Path}:Id: rule id '{id}' is used twice. Rule ids must be unique across all work types.");

        var route = section["Route"];
        if (string.IsNullOrWhiteSpace(route))
            errors.Add($"{section.Path}:Route: set the YARP route id this rule applies to (or \"*\" for every route).");
        else if (route != "*" && knownRoutes is not null && !knownRoutes.Contains(route))
            errors.Add($"{section.Path}:Route: route '{route}' is not defined in ReverseProxy:Routes. Known routes: {string.Join(", ", knownRoutes.Order())}.");

        var methods = ConfigReader.ReadList(section, "Methods", errors);
        bool anyMethod = false;
        if (methods is null || methods.Count == 0)
        {
            errors.Add($"{section.Path}:Methods: list the HTTP methods this rule allows, e.g. [\"GET\", \"HEAD\"], or [\"*\"] for all.");
            methods = [];
        }
        foreach (var m in methods)
        {
            if (m == "*")
                anyMethod = true;
            else if (!KnownMethods.Contains(m))
                errors.Add($"{section.Path}:Methods: '{m}' is not an HTTP method this gateway forwards. Use upper case: {string.Join(", ", KnownMethods.Order())} or \"*\".");
        }

        var paths = ConfigReader.ReadList(section, "Paths", errors);
        if (paths is null || paths.Count == 0)
        {
            errors.Add($"{section.Path}:Paths: list the path patterns this rule allows, e.g. [\"/api/items/**\"] ('*' = one segment, '**' = any depth).");
            paths = [];
        }
        foreach (var p in paths)
        {
            if (Glob.Validate(p, mustBePath: true) is { } err)
                errors.Add($"{section.Path}:Paths: path pattern {err}.");
        }

        var modeText = section["Mode"] ?? "enforce";
        RuleMode mode = RuleMode.Enforce;
        if (modeText == "report")
            mode = RuleMode.Report;
        else if (modeText != "enforce")
            errors.Add($"{section.Path}:Mode: '{modeText}' is not a mode. Use \"enforce\" (default) or \"report\" (allow, log as would-deny, count ungoverned).");

        var approval = section["Approval"] ?? "none";
        if (approval is not ("none" or "required"))
            errors.Add($"{section.Path}:Approval: '{approval}' is not a choice. Use \"required\" (a human approves each call) or \"none\" (default).");
        else if (approval == "required" && mode == RuleMode.Report)
            errors.Add($"{section.Path}:Approval: a report-only rule cannot require approval; make it \"enforce\".");

        var tools = ConfigReader.ReadGlobs(section, "Tools", errors);
        var resources = ConfigReader.ReadGlobs(section, "Resources", errors);
        var prompts = ConfigReader.ReadGlobs(section, "Prompts", errors);
        if ((tools.Length > 0 || resources.Length > 0 || prompts.Length > 0) && mcpRoutes is not null
            && route is not null && route != "*" && knownRoutes!.Contains(route) && !mcpRoutes.Contains(route))
            errors.Add($"{section.Path}: Tools, Resources and Prompts need an MCP route, and '{route}' is not one. Mark it in routes.json: \"Metadata\": {{ \"Perimeter.Mcp\": \"true\" }}.");
        var arguments = new Dictionary<string, ArgumentConstraint>(StringComparer.Ordinal);
        var argsSection = section.GetSection("Arguments");
        if (argsSection.Exists() && tools.Length == 0)
            errors.Add($"{argsSection.Path}: argument constraints apply to the rule's Tools; list the tools they constrain in \"Tools\".");
        foreach (var arg in argsSection.GetChildren())
        {
            ConfigReader.CheckKeys(arg, ArgumentKeys, errors);
            var oneOf = ConfigReader.ReadList(arg, "OneOf", errors);
            var glob = arg["Glob"];
            int? maxLength = null;
            if (arg["MaxLength"] is { } ml)
            {
                if (int.TryParse(ml, out var n) && n > 0)
                    maxLength = n;
                else
                    errors.Add($"{arg.Path}:MaxLength: must be a positive whole number.");
            }
            if (glob is not null && Glob.Validate(glob, mustBePath: false) is { } gerr)
                errors.Add($"{arg.Path}:Glob: pattern {gerr}.");
            if (oneOf is null && glob is null && maxLength is null)
                errors.Add($"{arg.Path}: give the argument a constraint: \"OneOf\": [values], \"Glob\": \"/workspace/**\" or \"MaxLength\": n.");
            arguments[arg.Key] = new ArgumentConstraint { OneOf = oneOf?.ToArray(), Glob = glob is null ? null : Glob.Parse(glob), MaxLength = maxLength };
        }

        var paramHeaders = ConfigReader.ReadList(section, "ParamHeaders", errors) ?? [];
        if (paramHeaders.Count > 0 && tools.Length == 0)
            errors.Add($"{section.Path}:ParamHeaders: Mcp-Param headers carry tool arguments; list the tools they belong to in \"Tools\".");
        foreach (var header in paramHeaders)
        {
            if (header.Length == 0 || header.Length > 64 || header.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
                errors.Add($"{section.Path}:ParamHeaders: '{header}' is not a header name suffix (Mcp-Param-{{Name}}: letters, digits, '-', '_', '.'; no 'Mcp-Param-' prefix).");
        }

        if (errors.Count != before)
            return null;

        return new PolicyRule
        {
            ParamHeaders = paramHeaders.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            Tools = tools,
            Resources = resources,
            Prompts = prompts,
            Arguments = arguments,
            Id = id!,
            Route = route!,
            Methods = methods.Where(m => m != "*").ToFrozenSet(StringComparer.Ordinal),
            AnyMethod = anyMethod,
            Paths = paths.Select(Glob.Parse).ToArray(),
            Mode = mode,
            RequireApproval = approval == "required",
        };
    }

    private static string Fingerprint(IConfigurationSection root)
    {
        var sb = new StringBuilder();
        foreach (var pair in root.AsEnumerable().OrderBy(p => p.Key, StringComparer.Ordinal))
            sb.Append(pair.Key).Append('=').Append(pair.Value).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16];
    }
}
