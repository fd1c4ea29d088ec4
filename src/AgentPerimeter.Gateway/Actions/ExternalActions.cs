using AgentPerimeter.Protocol.Refusals;
using System.Text.Json;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// <c>POST /.perimeter/actions/external</c> on the agent listener: a harness reports, with its session
/// token, an action it ran outside the perimeter (a local tool). It becomes an action like any other —
/// one audit record, one metrics increment — with decision <c>external</c> and never governed, so the
/// governed-action percentage stays honest instead of flattering.
/// </summary>
internal static class ExternalActions
{
    public static void MapExternalActions(WebApplication app) =>
        app.MapPost("/" + AgentPerimeter.Protocol.PerimeterPaths.ExternalActions, async (HttpContext context) =>
        {
            var action = context.GetAction();
            action.RouteId = "external";
            ExternalReport? report = null;
            try
            {
                report = await JsonSerializer.DeserializeAsync<ExternalReport>(context.Request.Body, SerializerOptions, context.RequestAborted);
            }
            catch (JsonException)
            {
            }
            if (report?.Tool is not { Length: > 0 and <= 128 } tool || tool.Any(char.IsControl))
            {
                await ActionResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.InvalidReport, null,
                    "Report a local action as {\"tool\": \"name\", \"arguments_hash\": \"...\", \"outcome\": \"ok\"}."));
                return;
            }
            action.Kind = ActionKind.External;
            action.Mcp = new McpActionInfo
            {
                Method = "tools/call",
                Target = tool,
                Arguments = report.ArgumentsHash is { Length: <= 128 } hash ? $"sha256:{hash}" : null,
                Direction = "local",
            };
            action.Exception = report.Outcome is { Length: > 0 and <= 64 } outcome && outcome != "ok" ? $"reported outcome: {outcome}" : null;
            action.Decide(new PolicyDecision(DecisionOutcome.External, "external_action", null,
                "Ran outside the perimeter (reported by the harness); not governed."));
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            await context.Response.WriteAsJsonAsync(new { recorded = action.ActionId, governed = false });
        }).WithMetadata(new ListenerMetadata(ListenerKind.Agent));

    private static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web);

    private sealed record ExternalReport(string? Tool, [property: System.Text.Json.Serialization.JsonPropertyName("arguments_hash")] string? ArgumentsHash, string? Outcome);
}
