using System.Text.Json;

namespace AgentPerimeter.Protocol.Hosting;

/// <summary>
/// The gateway's structured log event (compact JSON, one object a line on standard output, event id
/// <see cref="EventId"/>) that says where its listeners are bound, written once they are. With ports
/// configured as 0 it is the only place the chosen ports appear, so a program that starts the gateway
/// (the demo, the tests) reads them from it.
/// </summary>
public static class GatewayListeningEvent
{
    /// <summary>The event id of the gateway's "listening" log event.</summary>
    public const int EventId = 10;

    /// <summary>The property holding the agent listener's base URI.</summary>
    public const string AgentUriProperty = "AgentUri";

    /// <summary>The property holding the admin listener's base URI.</summary>
    public const string AdminUriProperty = "AdminUri";

    /// <summary>Reads the agent and admin listener URIs from a log line; false for any other line.</summary>
    public static bool TryParse(string line, out Uri? agentUri, out Uri? adminUri)
    {
        agentUri = adminUri = null;
        if (!line.StartsWith('{') || !line.Contains(AgentUriProperty, StringComparison.Ordinal))
            return false;
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (!root.TryGetProperty("EventId", out var id) || id.ValueKind != JsonValueKind.Object
                || !id.TryGetProperty("Id", out var number) || !number.TryGetInt32(out var n) || n != EventId)
                return false;
            if (Read(root, AgentUriProperty) is { } agent && Read(root, AdminUriProperty) is { } admin)
            {
                (agentUri, adminUri) = (agent, admin);
                return true;
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }

    private static Uri? Read(JsonElement root, string property) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
        && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var uri) ? uri : null;
}
