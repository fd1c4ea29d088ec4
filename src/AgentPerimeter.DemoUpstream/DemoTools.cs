using System.ComponentModel;
using ModelContextProtocol.Server;

namespace AgentPerimeter.DemoUpstream;

/// <summary>The demo MCP server's tools: some harmless, some that only certain work types should reach.</summary>
[McpServerToolType]
public sealed class DemoTools(BuildQueue builds)
{
    [McpServerTool(Name = "search_docs"), Description("Search the internal documentation.")]
    public static string SearchDocs([Description("Words to look for")] string query) =>
        string.Join("\n", DemoData.Docs.Where(d => d.Value.Contains(query, StringComparison.OrdinalIgnoreCase) || d.Key.Contains(query, StringComparison.OrdinalIgnoreCase))
            .Select(d => $"{d.Key}: {d.Value}")) is { Length: > 0 } hits ? hits : "no results";

    [McpServerTool(Name = "read_page"), Description("Read one documentation page.")]
    public static string ReadPage([Description("Page name")] string page) =>
        DemoData.Docs.TryGetValue(page, out var text) ? text : $"no page '{page}'";

    [McpServerTool(Name = "run_build"), Description("Start a build of a repository.")]
    public string RunBuild([Description("Repository name")] string repo) => $"build {builds.Start(repo)} queued for {repo}";

    [McpServerTool(Name = "deploy"), Description("Deploy a repository to an environment.")]
    public static string Deploy([Description("Repository name")] string repo, [Description("staging or production")] string env) =>
        $"deploying {repo} to {env}";
}
