using AgentPerimeter.Gateway.Mcp;
using AgentPerimeter.Gateway.Policy;
using AgentPerimeter.Gateway.Secrets;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>The running policy, the secret inventory (never values) and the pinned tool definitions.</summary>
internal static class PolicyAdminEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapGet("/admin/policy", (PolicyStore store) =>
        {
            var p = store.Current;
            return Results.Json(new
            {
                version = p.Version,
                work_types = p.WorkTypes.Values.OrderBy(w => w.Name).Select(w => new
                {
                    name = w.Name,
                    description = w.Description,
                    agents = w.Agents.Select(a => a.Pattern),
                    rules = w.Rules.Select(r => new
                    {
                        id = r.Id,
                        route = r.Route,
                        methods = r.AnyMethod ? ["*"] : r.Methods.Order().ToArray(),
                        paths = r.Paths.Select(g => g.Pattern),
                        mode = r.Mode == RuleMode.Enforce ? "enforce" : "report",
                    }),
                }),
            });
        });

        admin.MapGet("/admin/secrets", (PolicyStore store, SecretStats stats) =>
        {
            var policy = store.Current;
            var catalog = policy.Section<SecretCatalog>();
            return Results.Json(catalog.Secrets.Values.OrderBy(s => s.Name).Select(s =>
            {
                var (count, last) = stats.For(s.Name);
                return new
                {
                    name = s.Name,
                    description = s.Description,
                    source = new { kind = s.Provider.Kind, location = s.Location },
                    available = s.Read().Value is not null,
                    bindings = s.Bindings.Select(b => new
                    {
                        route = b.Route,
                        inject = b.Describe(),
                        when_not_entitled = b.RefuseWhenNotEntitled ? "refuse" : "forward",
                    }),
                    work_types = policy.WorkTypes.Values.Where(w => catalog.EntitledFor(w.Name).Contains(s.Name)).Select(w => w.Name).Order(),
                    injections = count,
                    last_injected = last,
                };
            }));
        });

        admin.MapGet("/admin/tools", (ToolPins pins) => Results.Json(pins.All().Select(p => new
        {
            route = p.Route,
            tool = p.Tool,
            status = p.Withheld ? "withheld" : "approved",
            approved_hash = p.ApprovedHash,
            latest_hash = p.LatestHash,
            latest_description = p.LatestDescription,
            first_seen = p.FirstSeen,
            changed_at = p.ChangedAt,
            // What a re-approval would accept: each changed field of the definition, before and after.
            changes = ToolPins.Changes(p).Select(c => new { path = c.Path, approved = c.Approved, latest = c.Latest }),
        })));

        admin.MapPost("/admin/tools/{route}/{tool}/approve", async (HttpContext context, string route, string tool, string? hash, ToolPins pins, OperatorRecords records) =>
        {
            var pin = pins.All().FirstOrDefault(p => p.Route == route && p.Tool == tool);
            if (pin is null)
                return Results.Json(new { error = RefusalCodes.UnknownTool, message = $"Tool '{tool}' has not been seen on route '{route}'." }, statusCode: 404);
            // The operator approves the definition they reviewed: if it changed again since, nothing is approved.
            if (hash is { Length: > 0 } && !pin.LatestHash.StartsWith(hash, StringComparison.OrdinalIgnoreCase))
                return Results.Json(new { error = RefusalCodes.ToolDefinitionChanged, message = $"Tool '{tool}' on route '{route}' changed again since the reviewed definition ({hash}); review it again.", latest_hash = pin.LatestHash }, statusCode: 409);
            // Recorded before it takes effect: a re-approval the log cannot hold is not made.
            if (!await records.RecordAsync(context, "tool_approved", new("route", route), new("tool", tool), new("definition_hash", pin.LatestHash)))
                return OperatorRecords.Unrecorded("it did not re-approve the tool");
            if (!pins.Approve(route, tool, pin.LatestHash))
                return Results.Json(new { error = RefusalCodes.ToolDefinitionChanged, message = $"Tool '{tool}' on route '{route}' changed while it was being approved; review it again." }, statusCode: 409);
            return Results.Json(new { route, tool, status = "approved", hash = pin.LatestHash });
        });
    }
}
