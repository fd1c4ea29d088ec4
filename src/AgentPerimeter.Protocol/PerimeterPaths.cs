namespace AgentPerimeter.Protocol;

/// <summary>
/// Paths of the gateway's own endpoints that more than one program calls, relative to the listener's
/// base address (no leading slash, so they resolve against a base URI with a path).
/// </summary>
public static class PerimeterPaths
{
    /// <summary>Admin listener: <c>POST</c> mints a session token (<see cref="Messages.SessionTokenRequest"/>), <c>GET</c> lists sessions.</summary>
    public const string AdminSessions = "admin/sessions";

    /// <summary>Admin listener: every approval (<see cref="Messages.ApprovalRecord"/>); <c>{id}/approve</c> and <c>{id}/deny</c> decide one.</summary>
    public const string AdminApprovals = "admin/approvals";

    /// <summary>Agent listener: <c>GET {id}</c> with the session's own token answers <see cref="Messages.ApprovalStatusResponse"/>.</summary>
    public const string AgentApprovals = ".perimeter/approvals";

    /// <summary>Agent listener: <c>POST</c> an <see cref="Messages.ExternalActionReport"/> of a call the harness ran itself.</summary>
    public const string ExternalActions = ".perimeter/actions/external";

    /// <summary>Admin listener: Prometheus metrics.</summary>
    public const string Metrics = "metrics";

    /// <summary><c>admin/approvals/{id}/approve</c> or <c>/deny</c>.</summary>
    public static string Decide(string approvalId, bool approve) =>
        $"{AdminApprovals}/{Uri.EscapeDataString(approvalId)}/{(approve ? "approve" : "deny")}";

    /// <summary><c>.perimeter/approvals/{id}</c>.</summary>
    public static string AgentApproval(string approvalId) => $"{AgentApprovals}/{Uri.EscapeDataString(approvalId)}";
}
