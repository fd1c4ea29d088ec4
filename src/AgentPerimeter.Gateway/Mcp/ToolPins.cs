using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// Tool definitions pinned at first sight (trust on first use), per route. A definition that later
/// changes is withheld from listings and its calls are refused until an operator approves it, so a
/// server cannot swap a tool's meaning under an agent (a "rug pull"). Pins persist in a JSON file.
/// </summary>
public sealed partial class ToolPins
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger<ToolPins> _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string, string), ToolPin> _pins = [];

    public ToolPins(string path, TimeProvider time, ILogger<ToolPins> logger)
    {
        _path = Path.GetFullPath(path);
        _time = time;
        _logger = logger;
        if (File.Exists(_path))
        {
            foreach (var pin in JsonSerializer.Deserialize<List<ToolPin>>(File.ReadAllText(_path)) ?? [])
                _pins[(pin.Route, pin.Tool)] = pin;
        }
    }

    /// <summary>
    /// The hash of a pin made before whole definitions were pinned (name, description, input schema):
    /// used once, to carry an earlier approval over to the whole definition it was made for.
    /// </summary>
    public static string LegacyHash(string name, string? description, JsonNode? inputSchema)
    {
        var text = $"{name}\n{description}\n{Canonical(inputSchema)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>
    /// Canonical form of a whole tool definition — every field a client or model may act on (name,
    /// title, description, input and output schema, annotations, execution, icons, _meta, and any field
    /// a later protocol adds) — with object keys sorted, so equal definitions give equal text.
    /// </summary>
    public static string CanonicalDefinition(JsonObject definition) => Canonical(definition);

    public static string Hash(string canonicalDefinition) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("tool-definition/2\n" + canonicalDefinition)));

    /// <summary>Records a listed definition; returns true when the tool may be shown (approved).</summary>
    public bool Observe(string route, string tool, JsonObject definition)
    {
        var canonical = Canonical(definition);
        var hash = Hash(canonical);
        var description = definition["description"] is JsonValue d && d.TryGetValue<string>(out var text) ? text : null;
        lock (_lock)
        {
            if (!_pins.TryGetValue((route, tool), out var pin))
            {
                _pins[(route, tool)] = new ToolPin
                {
                    Route = route, Tool = tool, ApprovedHash = hash, LatestHash = hash, LatestDescription = description,
                    ApprovedDefinition = canonical, LatestDefinition = canonical, FirstSeen = _time.GetUtcNow(),
                };
                Save();
                return true;
            }
            if (pin.ApprovedDefinition is null && pin.ApprovedHash == LegacyHash(tool, description, definition["inputSchema"]))
            {
                // Approved under the earlier, narrower pin: that approval covered what is listed now.
                pin.ApprovedHash = pin.LatestHash = hash;
                pin.ApprovedDefinition = pin.LatestDefinition = canonical;
                pin.LatestDescription = description;
                Save();
                return true;
            }
            if (pin.LatestHash != hash)
            {
                pin.LatestHash = hash;
                pin.LatestDescription = description;
                pin.LatestDefinition = canonical;
                pin.ChangedAt = _time.GetUtcNow();
                Save();
                if (pin.Withheld)
                    Log.DefinitionChanged(_logger, route, tool);
            }
            return !pin.Withheld;
        }
    }

    /// <summary>The approved definition (canonical JSON) of a tool on a route, or null when it was never listed.</summary>
    public string? ApprovedDefinition(string route, string tool)
    {
        lock (_lock)
            return _pins.TryGetValue((route, tool), out var pin) ? pin.ApprovedDefinition : null;
    }

    public bool IsWithheld(string route, string tool)
    {
        lock (_lock)
            return _pins.TryGetValue((route, tool), out var pin) && pin.Withheld;
    }

    /// <summary>
    /// Approves the latest definition seen — only if it is still the one whose hash the operator
    /// reviewed, when <paramref name="expectedHash"/> is given. False if the tool was never seen on the
    /// route or changed again since.
    /// </summary>
    public bool Approve(string route, string tool, string? expectedHash = null)
    {
        lock (_lock)
        {
            if (!_pins.TryGetValue((route, tool), out var pin))
                return false;
            if (expectedHash is not null && !pin.LatestHash.StartsWith(expectedHash, StringComparison.OrdinalIgnoreCase))
                return false;
            pin.ApprovedHash = pin.LatestHash;
            pin.ApprovedDefinition = pin.LatestDefinition;
            Save();
            Log.Approved(_logger, route, tool);
            return true;
        }
    }

    public IReadOnlyList<ToolPin> All()
    {
        lock (_lock)
            return [.. _pins.Values.OrderBy(p => p.Route).ThenBy(p => p.Tool)];
    }

    private void Save()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var temp = _path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(_pins.Values.ToList(), new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, _path, overwrite: true);
    }

    /// <summary>
    /// What differs between the approved and the latest definition, field by field (JSON Pointer, then
    /// the approved and the latest value as JSON, each cut to <paramref name="maxValueChars"/>).
    /// </summary>
    public static IReadOnlyList<(string Path, string? Approved, string? Latest)> Changes(ToolPin pin, int maxValueChars = 300)
    {
        var changes = new List<(string, string?, string?)>();
        if (pin.LatestDefinition is null || pin.ApprovedDefinition == pin.LatestDefinition)
            return changes;
        if (pin.ApprovedDefinition is null)
        {
            changes.Add(("", null, Cut(pin.LatestDefinition, maxValueChars)));
            return changes;
        }
        Diff("", JsonNode.Parse(pin.ApprovedDefinition), JsonNode.Parse(pin.LatestDefinition), changes, maxValueChars);
        return changes;
    }

    private static void Diff(string path, JsonNode? approved, JsonNode? latest, List<(string, string?, string?)> changes, int max)
    {
        if (approved is JsonObject a && latest is JsonObject b)
        {
            foreach (var key in a.Select(p => p.Key).Union(b.Select(p => p.Key)).Order(StringComparer.Ordinal))
            {
                var child = path + "/" + key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
                bool inA = a.TryGetPropertyValue(key, out var va), inB = b.TryGetPropertyValue(key, out var vb);
                if (!inA)
                    changes.Add((child, null, Cut(Canonical(vb), max)));
                else if (!inB)
                    changes.Add((child, Cut(Canonical(va), max), null));
                else
                    Diff(child, va, vb, changes, max);
            }
            return;
        }
        if (approved is JsonArray x && latest is JsonArray y && x.Count == y.Count)
        {
            for (int i = 0; i < x.Count; i++)
                Diff($"{path}/{i}", x[i], y[i], changes, max);
            return;
        }
        var before = Canonical(approved);
        var after = Canonical(latest);
        if (before != after)
            changes.Add((path, Cut(before, max), Cut(after, max)));
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "…");

    private static string Canonical(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        _ => node.ToJsonString(),
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Tool {Tool} on route {Route} changed its definition; withheld until approved (perimeter tools approve {Route} {Tool})")]
        public static partial void DefinitionChanged(ILogger logger, string route, string tool);

        [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Tool {Tool} on route {Route} approved")]
        public static partial void Approved(ILogger logger, string route, string tool);
    }
}
