namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// Writes the perimeter's refusal of an action in the form its caller reads: a JSON body by default; a
/// stage that understands the protocol provides its own (the MCP stage answers JSON-RPC requests with
/// JSON-RPC errors). The machine-readable reason fields come from <see cref="RefusalFields"/>.
/// </summary>
public interface IRefusalWriter
{
    Task WriteAsync(HttpContext context, ActionContext action, Refusal refusal);
}
