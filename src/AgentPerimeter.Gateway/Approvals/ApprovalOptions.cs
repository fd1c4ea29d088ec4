namespace AgentPerimeter.Gateway.Approvals;

/// <summary><c>Gateway:Approvals</c>.</summary>
public sealed class ApprovalOptions
{
    /// <summary>How long a held call may wait for a decision, and an approval for its use.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(1);
}
