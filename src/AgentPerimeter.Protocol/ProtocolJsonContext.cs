using System.Text.Json.Serialization;
using AgentPerimeter.Protocol.Messages;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Protocol;

/// <summary>
/// Source-generated (reflection-free) JSON metadata for every type of this contract that crosses the
/// wire. Property names come from each type's <c>[JsonPropertyName]</c>, so they are the wire names
/// whatever the caller's options.
/// </summary>
[JsonSerializable(typeof(PerimeterRefusal))]
[JsonSerializable(typeof(SessionTokenRequest))]
[JsonSerializable(typeof(SessionTokenResponse))]
[JsonSerializable(typeof(ApprovalStatusResponse))]
[JsonSerializable(typeof(ApprovalRecord))]
[JsonSerializable(typeof(List<ApprovalRecord>))]
[JsonSerializable(typeof(ExternalActionReport))]
[JsonSerializable(typeof(ExternalActionReceipt))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext
{
}
