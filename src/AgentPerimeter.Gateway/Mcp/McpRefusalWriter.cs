using AgentPerimeter.Gateway.Actions;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// Refusals of an MCP JSON-RPC request, from any stage, as a JSON-RPC error (HTTP 200, code
/// <see cref="McpResponses.PerimeterRefusal"/>, the reason in <c>data</c>), so MCP clients read it.
/// </summary>
internal sealed class McpRefusalWriter(string? rawId) : IRefusalWriter
{
    public Task WriteAsync(HttpContext context, ActionContext action, Refusal refusal)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }
        return McpResponses.WriteErrorAsync(context, action, StatusCodes.Status200OK, McpResponses.PerimeterRefusal, refusal.Code, rawId, refusal.Message);
    }
}
