using AgentPerimeter.Gateway.Policy;

namespace AgentPerimeter.Gateway.UnitTests.Policy;

/// <summary>The path guard's own check, without a gateway (the attacks through a real gateway are functional tests).</summary>
public class PathCanonicalizationTests
{
    [Theory]
    [InlineData("/a/b", null)]
    [InlineData("/", null)]
    [InlineData("/a/", null)]
    [InlineData("/a/..", "dot segment")]
    [InlineData("/a/.", "dot segment")]
    [InlineData("/a%2Fb", "encoded '%2F'")]
    [InlineData("/a%25b", "encoded '%25'")]
    [InlineData("http://evil/a/../b", "dot segment")]
    [InlineData("*", "not an origin-form path")]
    public void Check_NamesTheProblem(string raw, string? expected) =>
        Assert.Equal(expected, PathGuardMiddleware.Check(raw));

    [Theory]
    [InlineData("/api/repos/%C0%AE%C0%AE/secrets")] // overlong '.' — a lax decoder reads "../"
    [InlineData("/api/repos/%E0%80%AE")]            // overlong '.' in three bytes
    [InlineData("/api/repos/%FF")]                  // not UTF-8 at all
    [InlineData("/api/repos/%ED%A0%80")]            // a UTF-16 surrogate encoded as UTF-8
    public void Path_WithOverlongOrInvalidUtf8PercentEncoding_IsRefused(string raw) =>
        Assert.Contains("not valid UTF-8", PathGuardMiddleware.Check(raw));

    [Theory]
    [InlineData("/api/repos/caf%C3%A9")]            // valid UTF-8: é
    [InlineData("/api/repos/%E2%9C%93")]            // valid UTF-8: ✓
    public void Path_WithValidUtf8PercentEncoding_IsAccepted(string raw) =>
        Assert.Null(PathGuardMiddleware.Check(raw));
}
