namespace AgentPerimeter.Harness;

/// <summary>The harness cannot run the session as asked (bad arguments, no journal, the gateway refused the session).</summary>
public sealed class HarnessException(string message) : Exception(message);
