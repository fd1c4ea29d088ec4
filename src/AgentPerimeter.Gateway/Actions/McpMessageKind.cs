namespace AgentPerimeter.Gateway.Actions;

/// <summary>What a JSON-RPC message is: a request (has an id and a method), a notification, or a response.</summary>
public enum McpMessageKind
{
    Request,
    Notification,
    Response,
}
