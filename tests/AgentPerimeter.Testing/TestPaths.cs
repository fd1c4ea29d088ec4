namespace AgentPerimeter.Testing;

/// <summary>Where things are in the repository the tests were built from.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the directory holding AgentPerimeter.sln), found from the test's output directory.</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AgentPerimeter.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
