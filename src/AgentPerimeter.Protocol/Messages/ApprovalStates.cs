namespace AgentPerimeter.Protocol.Messages;

/// <summary>The <c>status</c> values of an approval.</summary>
public static class ApprovalStates
{
    /// <summary>Waiting for an operator.</summary>
    public const string Pending = "pending";
    /// <summary>Approved: the held call may be repeated once with the approval id.</summary>
    public const string Approved = "approved";
    /// <summary>Denied by an operator.</summary>
    public const string Denied = "denied";
    /// <summary>Approved and spent by one call.</summary>
    public const string Used = "used";
    /// <summary>Not decided, or not used, in time.</summary>
    public const string Expired = "expired";
}
