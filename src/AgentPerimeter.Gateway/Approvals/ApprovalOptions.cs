namespace AgentPerimeter.Gateway.Approvals;

/// <summary><c>Gateway:Approvals</c>.</summary>
public sealed class ApprovalOptions
{
    /// <summary>How long a held call may wait for a decision, and an approval for its use.</summary>
    public TimeSpan Expiry { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Base URL of the approval pages as the people deciding reach them (the admin listener behind your
    /// proxy, e.g. <c>https://perimeter-admin.example.com</c>). Default: the admin listener's own address.
    /// A held call shows <c>{PageUrl}/approvals/{id}</c> to a client that can open URLs.
    /// </summary>
    public string? PageUrl { get; set; }
}
