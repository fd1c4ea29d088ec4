namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// Implemented by exceptions a forwarding transport throws when nothing of the request left the gateway
/// (e.g. a tunnel with no connector): the upstream cannot have acted, so an idempotency key stays
/// unused and an approval unspent.
/// </summary>
public interface IUnsentFailure
{
    /// <summary>The refusal code the agent receives (e.g. <c>tunnel_unavailable</c>).</summary>
    string Code { get; }

    /// <summary>A sentence for the agent, without internal addresses.</summary>
    string Message { get; }

    /// <summary>Finds such a failure in an exception chain.</summary>
    static IUnsentFailure? Find(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is IUnsentFailure unsent)
                return unsent;
        }
        return null;
    }
}
