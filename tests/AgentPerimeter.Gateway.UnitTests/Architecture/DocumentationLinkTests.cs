using System.Text.RegularExpressions;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.UnitTests.Architecture;

/// <summary>The README is the front door and the topics live in docs/: every relative link and anchor between them resolves.</summary>
public sealed partial class DocumentationLinkTests
{
    private static string Slug(string heading) =>
        Regex.Replace(heading.Trim().ToLowerInvariant(), "[^a-z0-9 _-]", "").Replace(' ', '-');

    private static HashSet<string> Anchors(string file) =>
        [.. File.ReadLines(file).Select(l => HeadingPattern().Match(l)).Where(m => m.Success).Select(m => Slug(m.Groups[1].Value))];

    [Fact]
    public void EveryRelativeLinkAndAnchor_Resolves()
    {
        var root = TestPaths.RepoRoot();
        var files = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md"))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "dashboards"), "*.md"))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "deploy"), "*.md", SearchOption.AllDirectories)).ToList();
        var broken = new List<string>();
        int links = 0;
        foreach (var file in files)
        {
            var text = CodeBlockPattern().Replace(File.ReadAllText(file), "");
            foreach (Match m in LinkPattern().Matches(text))
            {
                var target = m.Groups[1].Value;
                if (target.StartsWith("http:", StringComparison.Ordinal) || target.StartsWith("https:", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                    continue;
                links++;
                var hash = target.IndexOf('#', StringComparison.Ordinal);
                var path = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                if (!File.Exists(resolved) && !Directory.Exists(resolved))
                    broken.Add($"{Path.GetRelativePath(root, file)}: {target} (no such file)");
                else if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(resolved).Contains(anchor))
                    broken.Add($"{Path.GetRelativePath(root, file)}: {target} (no such heading)");
            }
        }
        Assert.True(links > 50, $"only {links} relative links found");
        Assert.True(broken.Count == 0, string.Join("\n", broken));
    }

    [Fact]
    public void TheReadme_IsAFrontDoor_LinkingEveryTopic()
    {
        var root = TestPaths.RepoRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        Assert.True(readme.Split('\n').Length < 400, "the README should stay a front door; topics belong in docs/");
        foreach (var topic in new[] { "configuration", "identity", "mcp", "tunnels", "egress", "harness", "approvals-and-idempotency", "secrets", "limits", "answers", "audit", "metrics-and-alerts", "operations", "troubleshooting" })
            Assert.Contains($"(docs/{topic}.md)", readme);
    }

    [GeneratedRegex(@"^#+\s+(.*)$")]
    private static partial Regex HeadingPattern();

    [GeneratedRegex(@"```.*?```", RegexOptions.Singleline)]
    private static partial Regex CodeBlockPattern();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex LinkPattern();
}
