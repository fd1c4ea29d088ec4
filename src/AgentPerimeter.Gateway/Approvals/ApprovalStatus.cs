using System.Text.Json.Serialization;

namespace AgentPerimeter.Gateway.Approvals;

[JsonConverter(typeof(JsonStringEnumConverter<ApprovalStatus>))]
public enum ApprovalStatus
{
    Pending,
    Approved,
    Denied,
    /// <summary>Approved and spent by the one action it was for.</summary>
    Used,
    Expired,
}
