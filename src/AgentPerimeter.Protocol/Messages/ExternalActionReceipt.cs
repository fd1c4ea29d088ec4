using System.Text.Json.Serialization;

namespace AgentPerimeter.Protocol.Messages;

/// <summary>The gateway's answer to an <see cref="ExternalActionReport"/> (HTTP 202).</summary>
/// <param name="Recorded">The action id the report was recorded under.</param>
/// <param name="Governed">Always false: nobody at the perimeter decided the call.</param>
public sealed record ExternalActionReceipt(
    [property: JsonPropertyName("recorded")] string Recorded,
    [property: JsonPropertyName("governed")] bool Governed);
