using System.Text;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Protocol.Audit;

namespace AgentPerimeter.Gateway.UnitTests.Audit;

/// <summary>The audit chain and its verifier on a log file (the gateway writing it is a functional test).</summary>
public class AuditLogTests
{
    [Fact]
    public async Task EditedLine_FailsVerification_AndTheCliSaysSo()
    {
        var path = await WriteLogAsync(5);
        Assert.Equal(0, await Cli.Cli.RunAsync(["audit", "verify", path]));

        var lines = File.ReadAllLines(path);
        lines[2] = lines[2].Replace("\"decision\":\"deny\"", "\"decision\":\"allow\"").Replace("\"decision\":\"unauthenticated\"", "\"decision\":\"allow\"");
        Assert.NotEqual(File.ReadAllLines(path)[2], lines[2]);
        File.WriteAllLines(path, lines);

        var result = AuditVerifier.Verify(path);
        Assert.False(result.IsIntact);
        Assert.Contains(result.Errors, e => e.StartsWith("line 3:") && e.Contains("hash mismatch"));
        Assert.Equal(1, await Cli.Cli.RunAsync(["audit", "verify", path]));
    }

    [Fact]
    public async Task DeletedLine_FailsVerification()
    {
        var path = await WriteLogAsync(5);
        var lines = File.ReadAllLines(path).ToList();
        lines.RemoveAt(1);
        File.WriteAllLines(path, lines);

        var result = AuditVerifier.Verify(path);

        Assert.False(result.IsIntact);
        Assert.Contains(result.Errors, e => e.StartsWith("line 2:") && e.Contains("sequence 3, expected 2"));
    }

    /// <summary>A chain of refused actions, laid down with <see cref="AuditChain"/> as the gateway's writer does.</summary>
    private static Task<string> WriteLogAsync(int actions)
    {
        var path = Path.Combine(Path.GetTempPath(), $"perimeter-audit-{Guid.NewGuid():N}.jsonl");
        using var file = File.Create(path);
        var prev = AuditChain.Genesis;
        for (int seq = 1; seq <= actions; seq++)
        {
            var fields = Encoding.UTF8.GetBytes($"\"action_id\":\"act_{seq:D4}\",\"decision\":\"unauthenticated\",\"code\":\"missing_token\"");
            var body = AuditChain.Body(seq, prev, fields);
            prev = AuditChain.Hash(body);
            AuditChain.WriteLine(file, body, prev);
        }
        return Task.FromResult(path);
    }
}
