using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.UnitTests.Policy;

public class GlobTests
{
    [Theory]
    [InlineData("/api/repos", "/api/repos", true)]
    [InlineData("/api/repos", "/api/repos/x", false)]
    [InlineData("/api/repos/*", "/api/repos/x", true)]
    [InlineData("/api/repos/*", "/api/repos/x/y", false)]
    [InlineData("/api/repos/*", "/api/repos/", true)]
    [InlineData("/api/repos/**", "/api/repos/x/y/z", true)]
    [InlineData("/api/repos/**", "/api/repos", false)]
    [InlineData("/api/**/files", "/api/files", true)]
    [InlineData("/api/**/files", "/api/a/b/files", true)]
    [InlineData("/api/**/files", "/api/a/b/filesx", false)]
    [InlineData("/api/v?/x", "/api/v1/x", true)]
    [InlineData("/api/v?/x", "/api/v//x", false)]
    [InlineData("/api/*.json", "/api/a.json", true)]
    [InlineData("/api/*.json", "/api/a/b.json", false)]
    [InlineData("/API/repos", "/api/repos", false)]
    public void Path_Globs_MatchSegmentAware(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Glob.Parse(pattern).IsMatch(path));

    [Theory]
    [InlineData("api/x")]
    [InlineData("/api//x")]
    [InlineData("/api/../x")]
    [InlineData("/api/%2e")]
    [InlineData("/api/***")]
    public void Validate_RejectsNonCanonicalPatterns(string pattern) =>
        Assert.NotNull(Glob.Validate(pattern, mustBePath: true));
}
