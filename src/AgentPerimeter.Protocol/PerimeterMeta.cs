namespace AgentPerimeter.Protocol;

/// <summary>
/// Keys of an MCP request's <c>params._meta</c> the gateway reads: the MCP equivalents of the
/// <see cref="PerimeterHeaders.IdempotencyKey"/> and <see cref="PerimeterHeaders.Approval"/> headers.
/// </summary>
public static class PerimeterMeta
{
    /// <summary>The call's idempotency key.</summary>
    public const string IdempotencyKey = "io.agentperimeter/idempotency-key";

    /// <summary>The approval id a human decided, presented when the held call is repeated.</summary>
    public const string ApprovalId = "io.agentperimeter/approval-id";
}
