using System.Text.Json.Serialization;

namespace AgentPerimeter.Protocol.Messages;

/// <summary>
/// <c>POST .perimeter/actions/external</c> (<see cref="PerimeterPaths.ExternalActions"/>) with the session's
/// token: a call the harness ran itself, outside the perimeter, recorded as an ungoverned action.
/// </summary>
/// <param name="Tool">The tool's name.</param>
/// <param name="ArgumentsHash">SHA-256 (hex) of the call's arguments: what ran, without the arguments themselves.</param>
/// <param name="Outcome"><c>ok</c>, or what went wrong.</param>
public sealed record ExternalActionReport(
    [property: JsonPropertyName("tool")] string Tool,
    [property: JsonPropertyName("arguments_hash")] string? ArgumentsHash,
    [property: JsonPropertyName("outcome")] string? Outcome);
