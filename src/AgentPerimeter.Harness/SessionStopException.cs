namespace AgentPerimeter.Harness;

/// <summary>Ends the session's loop with a typed reason (a budget reached, the model done, an approval timed out).</summary>
internal sealed class SessionStopException(string reason, string detail) : Exception(detail)
{
    public string Reason { get; } = reason;
}
