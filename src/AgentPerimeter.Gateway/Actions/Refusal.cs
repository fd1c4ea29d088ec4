namespace AgentPerimeter.Gateway.Actions;

/// <summary>One refusal as the agent receives it: HTTP status, code, and the sentence for the model.</summary>
public readonly record struct Refusal(int Status, string Code, string Message);
