using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Audit;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.UnitTests.Audit;

public sealed class AuditScrubbingTests
{
    [Theory]
    [InlineData("{\"token\":\"\\u0073k-live-0123456789\"}")]
    [InlineData("{\"token\":\"sk-live-\\u0030123456789\"}")]
    [InlineData("{\"url\":\"https://x/?k=sk-live-%30123456789\"}")]
    public void AnArgumentSpellingASecretWithEscapes_NeverWritesTheSecretIntoTheRecord(string arguments)
    {
        const string secret = "sk-live-0123456789";
        var scrubber = new SecretScrubber();
        scrubber.Remember("key", secret);
        var action = new ActionContext(ActionContext.NewId(), DateTimeOffset.UtcNow)
        {
            Kind = ActionKind.Mcp,
            Mcp = new McpActionInfo { Method = "tools/call", Target = "t", Arguments = arguments },
        };
        action.Decide(new PolicyDecision(DecisionOutcome.Allow, "allowed", "r", null));

        var line = "{" + Encoding.UTF8.GetString(AuditRecord.SerializeFields(action, scrubber)) + "}"; // fields, as the chain writer wraps them

        // What any reader decodes from the record (the record, then the arguments it holds) holds no secret.
        using var record = JsonDocument.Parse(line);
        var stored = record.RootElement.GetProperty("mcp").GetProperty("arguments").GetString()!;
        Assert.Contains("[REDACTED]", stored);
        Assert.DoesNotContain(secret, stored);
        Assert.DoesNotContain(secret, Uri.UnescapeDataString(stored));
        Assert.DoesNotContain(secret, JsonDocument.Parse(stored).RootElement.ToString());
    }
}
