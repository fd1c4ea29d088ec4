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

    public static string Hash(string name, string? description, JsonNode? inputSchema)
    {
        var text = $"{name}\n{description}\n{Canonical(inputSchema)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Records a listed definition; returns true when the tool may be shown (approved).</summary>
    public bool Observe(string route, string tool, string hash, string? description)
    {
        lock (_lock)
        {
            if (!_pins.TryGetValue((route, tool), out var pin))
            {
                _pins[(route, tool)] = new ToolPin { Route = route, Tool = tool, ApprovedHash = hash, LatestHash = hash, LatestDescription = description, FirstSeen = _time.GetUtcNow() };
                Save();
                return true;
            }
            if (pin.LatestHash != hash)
            {
                pin.LatestHash = hash;
                pin.LatestDescription = description;
                pin.ChangedAt = _time.GetUtcNow();
                Save();
                if (pin.Withheld)
                    Log.DefinitionChanged(_logger, route, tool);
            }
            return !pin.Withheld;
        }
    }

    public bool IsWithheld(string route, string tool)
    {
        lock (_lock)
            return _pins.TryGetValue((route, tool), out var pin) && pin.Withheld;
    }

    /// <summary>Approves the latest definition seen. False if the tool was never seen on the route.</summary>
    public bool Approve(string route, string tool)
    {
        lock (_lock)
        {
            if (!_pins.TryGetValue((route, tool), out var pin))
                return false;
            pin.ApprovedHash = pin.LatestHash;
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
