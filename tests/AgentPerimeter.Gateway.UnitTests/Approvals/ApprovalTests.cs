using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.UnitTests.Approvals;

/// <summary>Approval settings are validated at startup (approvals at a running gateway are functional tests).</summary>
public class ApprovalTests
{
    [Fact]
    public async Task ARuleCannotBeBothReportOnlyAndApprovalGated_AndApprovalMustBeAKnownChoice()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-cfg-").FullName;
        const string policy = """
            { "Perimeter": { "WorkTypes": { "build": { "Rules": [
                { "Id": "a", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ], "Mode": "report", "Approval": "required" },
                { "Id": "b", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/x" ], "Approval": "maybe" } ] } } } }
            """;
        var args = TestGateway.PrepareConfig(dir, "http://127.0.0.1:1", policy);
        var ex = Assert.Throws<AgentPerimeter.Gateway.Hosting.ConfigurationValidationException>(() => AgentPerimeter.Gateway.Hosting.PerimeterApp.Build(args));
        Assert.Contains(ex.Errors, e => e.Contains("a report-only rule cannot require approval"));
        Assert.Contains(ex.Errors, e => e.Contains("'maybe' is not a choice"));
        await Task.CompletedTask;
    }
}
