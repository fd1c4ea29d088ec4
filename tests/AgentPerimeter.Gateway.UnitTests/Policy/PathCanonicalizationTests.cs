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
}
