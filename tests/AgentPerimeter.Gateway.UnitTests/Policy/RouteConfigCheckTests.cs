using AgentPerimeter.Gateway.Policy;
using Microsoft.Extensions.Configuration;

namespace AgentPerimeter.Gateway.UnitTests.Policy;

public sealed class RouteConfigCheckTests
{
    private static List<string> Check(string routesJson)
    {
        var config = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(routesJson))).Build();
        var errors = new List<string>();
        RouteConfigCheck.CheckRoutes(config, errors);
        return errors;
    }

    [Fact]
    public void TheShippedRoutes_AreValid()
    {
        var path = Path.Combine(AgentPerimeter.Testing.TestPaths.RepoRoot(), "config", "routes.json");
        var config = new ConfigurationBuilder().AddJsonFile(path).Build();
        var errors = new List<string>();
        RouteConfigCheck.CheckJsonFile(path, errors);
        RouteConfigCheck.CheckRoutes(config, errors);
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"ghost","Match":{"Path":"/a"}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://x/"}}}}}}""", "ReverseProxy:Routes:r:ClusterId: cluster 'ghost' is not defined")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"Match":{"Path":"/a"}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://x/"}}}}}}""", "ReverseProxy:Routes:r:ClusterId: a route needs the cluster")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Mach":{"Path":"/a"}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://x/"}}}}}}""", "ReverseProxy:Routes:r:Mach: not a key YARP reads")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://x/"}}}}}}""", "a route needs a Path or Hosts")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{"Path":"/a/{"}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://x/"}}}}}}""", "is not a valid route pattern")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{"Path":"/a"},"Order":"first"}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://x/"}}}}}}""", "ReverseProxy:Routes:r:Order: 'first' is not a whole number")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{"Path":"/a"}}},"Clusters":{"c":{"Destinations":{}}}}}""", "a cluster needs at least one destination")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{"Path":"/a"}}},"Clusters":{"c":{"Destinations":{"d":{"Adress":"http://x/"}}}}}}""", "ReverseProxy:Clusters:c:Destinations:d:Address: a destination needs an address")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{"Path":"/a"}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"localhost:8080"}}}}}}""", "is not an absolute http://, https:// or tunnel:// address")]
    [InlineData("""{"ReverseProxy":{"Routes":{"r":{"ClusterId":"c","Match":{"Path":"/a"}}},"Clusters":{"c":{"Destinations":{"d":{"Address":"http://x/"}}}},"Rutes":{}}}""", "ReverseProxy:Rutes: not a key YARP reads")]
    public void EachMistake_IsNamedWithItsPath(string routes, string expected)
    {
        var errors = Check(routes);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{\n  \"ReverseProxy\": {\n    \"Routes\": {}\n    \"Clusters\": {}\n  }\n}", "line 4, column 5: not valid JSON")]
    [InlineData("{\n  \"ReverseProxy\": {\n    \"Routes\": {\"r\": {}, \"r\": {}}\n  }\n}", "Duplicate")]
    [InlineData("{\n  \"ReverseProxy\": {\n    \"Routes\": {", "not valid JSON")]
    public void AFileThatIsNotJson_IsNamedWithLineAndColumn(string content, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"routes-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        try
        {
            var errors = new List<string>();
            RouteConfigCheck.CheckJsonFile(path, errors);
            var error = Assert.Single(errors);
            Assert.StartsWith(path + ": ", error);
            Assert.Contains(expected, error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void CommentsAndTrailingCommas_AreAcceptedAsTheConfigurationReaderAcceptsThem()
    {
        var path = Path.Combine(Path.GetTempPath(), $"routes-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{ // routes\n \"ReverseProxy\": { \"Routes\": {}, },\n}");
        try
        {
            var errors = new List<string>();
            RouteConfigCheck.CheckJsonFile(path, errors);
            Assert.Empty(errors);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
