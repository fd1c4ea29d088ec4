namespace AgentPerimeter.Gateway.FunctionalTests.Secrets;

/// <summary>Masking through a real gateway (the scrubber itself is unit-tested).</summary>
public class ScrubbingTests
{
    [Fact]
    public async Task SecretInTheRequestPath_IsMaskedInTheAuditRecord()
    {
        await using var s = await SecretSetup.StartAsync();
        var token = await s.Gateway.TokenAsync("explorer", "exploration");

        var response = await s.Gateway.GetAsync($"/plain/{s.ApiKey}", token);

        var record = s.Gateway.AuditFor(response);
        Assert.Equal("/plain/[REDACTED]", record.GetProperty("path").GetString());
        Assert.False(record.GetProperty("governed").GetBoolean());
    }
}
