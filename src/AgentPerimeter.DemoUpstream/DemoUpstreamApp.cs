using System.Collections.Concurrent;

namespace AgentPerimeter.DemoUpstream;

/// <summary>
/// The private system the quick start fronts: a plain HTTP API under <c>/api</c> and an MCP server
/// (official MCP C# SDK, Streamable HTTP) at <c>/mcp</c>. Default address http://127.0.0.1:5081.
/// </summary>
public static class DemoUpstreamApp
{
    public const string DefaultUrl = "http://127.0.0.1:5081";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<BuildQueue>();
        builder.Services.AddMcpServer()
            .WithHttpTransport(o => o.Stateless = false)
            .WithTools<DemoTools>();

        var app = builder.Build();
        MapApi(app);
        app.MapMcp("/mcp");
        return app;
    }

    private static void MapApi(WebApplication app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/repos", () => Results.Json(DemoData.Repos.Select(r => new { name = r.Name, description = r.Description })));
        api.MapGet("/repos/{name}", (string name) =>
            DemoData.Repos.FirstOrDefault(r => r.Name == name) is { } repo
                ? Results.Json(new { name = repo.Name, description = repo.Description, default_branch = "main" })
                : Results.NotFound(new { error = "no such repository" }));
        api.MapGet("/docs/{**page}", (string page) =>
            DemoData.Docs.TryGetValue(page, out var text) ? Results.Json(new { page, text }) : Results.NotFound(new { error = "no such page" }));
        api.MapPost("/builds", (BuildQueue queue, BuildRequest? request) =>
        {
            var id = queue.Start(request?.Repo ?? "payments-service");
            return Results.Json(new { build_id = id, status = "queued" }, statusCode: 202);
        });
        api.MapGet("/builds/{id}", (BuildQueue queue, string id) =>
            queue.Get(id) is { } b ? Results.Json(new { build_id = id, repo = b, status = "succeeded" }) : Results.NotFound());
        // The customer service wants an API key (DEMO_CUSTOMERS_API_KEY) — and, like many real services,
        // carelessly echoes it back in a debug field: the gateway must mask it before the agent sees it.
        api.MapGet("/customers/{id}", (string id, HttpContext ctx) =>
        {
            var expected = Environment.GetEnvironmentVariable("DEMO_CUSTOMERS_API_KEY");
            var key = ctx.Request.Headers["X-Api-Key"].ToString();
            if (!string.IsNullOrEmpty(expected) && key != expected)
                return Results.Json(new { error = "missing or wrong X-Api-Key" }, statusCode: 401);
            return Results.Json(new { id, name = "Ada Lovelace", tier = "enterprise", debug = new { api_key = key } });
        });
        api.MapGet("/exports/{**name}", (string name) => Results.Json(new { export = name, rows = 1200 }));
        api.MapPost("/deployments", () => Results.Json(new { deployment_id = "dep-1", status = "rolling out" }, statusCode: 202));
        api.MapGet("/deployments/{id}", (string id) => Results.Json(new { deployment_id = id, status = "healthy" }));
        api.MapPost("/admin/wipe", () => Results.Json(new { wiped = true }));
        // What the upstream saw: proves the agent's credentials never arrive.
        api.MapGet("/echo/{**rest}", (HttpContext ctx) => Results.Json(new
        {
            path = ctx.Request.Path.Value,
            authorization = ctx.Request.Headers.Authorization.Count > 0 ? "present" : "absent",
        }));
    }

    public sealed record BuildRequest(string? Repo);
}

public sealed class BuildQueue
{
    private readonly ConcurrentDictionary<string, string> _builds = new();
    private int _next;

    public string Start(string repo)
    {
        var id = $"b-{Interlocked.Increment(ref _next)}";
        _builds[id] = repo;
        return id;
    }

    public string? Get(string id) => _builds.TryGetValue(id, out var repo) ? repo : null;
}

internal static class DemoData
{
    public static readonly (string Name, string Description)[] Repos =
    [
        ("payments-service", "Card payments API"),
        ("web-frontend", "Customer-facing web app"),
        ("infra", "Terraform for the production estate"),
    ];

    public static readonly Dictionary<string, string> Docs = new()
    {
        ["getting-started"] = "Clone the repository, run the tests, open a pull request.",
        ["deploy"] = "Deployments go through the release pipeline; never deploy by hand.",
    };
}
