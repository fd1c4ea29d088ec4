using System.Text.Json;
using System.Text.Json.Nodes;
using AgentPerimeter.Gateway.Mcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentPerimeter.Gateway.UnitTests.Mcp;

public sealed class ToolPinsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pins-").FullName;
    private string PinFile => Path.Combine(_dir, "pins.json");

    private ToolPins NewPins() => new(PinFile, TimeProvider.System, NullLogger<ToolPins>.Instance);

    private static JsonObject Tool(string json) => JsonNode.Parse(json)!.AsObject();

    private const string Original = """{"name":"t","description":"d","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}}""";

    public static TheoryData<string> BehaviourChanges => new()
    {
        """{"name":"t","description":"d","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":false}}""",
        """{"name":"t","description":"d","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true,"destructiveHint":true}}""",
        """{"name":"t","title":"Delete everything","description":"d","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}}""",
        """{"name":"t","description":"d","inputSchema":{"type":"object"},"outputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}}""",
        """{"name":"t","description":"d","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true},"execution":{"taskSupport":"required"}}""",
        """{"name":"t","description":"d","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true},"icons":[{"src":"https://x/i.png"}]}""",
        """{"name":"t","description":"d","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true},"_meta":{"ui":"x"}}""",
    };

    [Theory]
    [MemberData(nameof(BehaviourChanges))]
    public void AnyChangeToTheDefinition_WithholdsTheTool_UntilApproved(string changed)
    {
        var pins = NewPins();
        Assert.True(pins.Observe("r", "t", Tool(Original)));
        Assert.False(pins.Observe("r", "t", Tool(changed)));
        Assert.True(pins.IsWithheld("r", "t"));
        Assert.NotEmpty(ToolPins.Changes(pins.All().Single()));

        Assert.True(pins.Approve("r", "t"));
        Assert.True(pins.Observe("r", "t", Tool(changed)));
        Assert.False(pins.Observe("r", "t", Tool(Original))); // and back again is a change too
    }

    [Fact]
    public void KeyOrder_IsNotAChange()
    {
        var pins = NewPins();
        Assert.True(pins.Observe("r", "t", Tool(Original)));
        Assert.True(pins.Observe("r", "t", Tool("""{"annotations":{"readOnlyHint":true},"inputSchema":{"type":"object"},"description":"d","name":"t"}""")));
    }

    [Fact]
    public void Changes_NameEachFieldWithBeforeAndAfter()
    {
        var pins = NewPins();
        pins.Observe("r", "t", Tool(Original));
        pins.Observe("r", "t", Tool("""{"name":"t","description":"d2","inputSchema":{"type":"object","required":["x"]},"annotations":{}}"""));
        var changes = ToolPins.Changes(pins.All().Single());
        Assert.Equal(
            [("/annotations/readOnlyHint", "true", null), ("/description", "\"d\"", "\"d2\""), ("/inputSchema/required", null, "[\"x\"]")],
            changes.Select(c => (c.Path, c.Approved, c.Latest)));
    }

    [Fact]
    public void APinMadeBeforeWholeDefinitions_CarriesItsApprovalOver_OnlyForTheDefinitionItApproved()
    {
        var legacy = ToolPins.LegacyHash("t", "d", JsonNode.Parse("""{"type":"object"}"""));
        File.WriteAllText(PinFile, JsonSerializer.Serialize(new[]
        {
            new { Route = "r", Tool = "t", ApprovedHash = legacy, LatestHash = legacy, LatestDescription = "d", FirstSeen = DateTimeOffset.UnixEpoch },
            new { Route = "r", Tool = "u", ApprovedHash = legacy, LatestHash = legacy, LatestDescription = "d", FirstSeen = DateTimeOffset.UnixEpoch },
        }));
        var pins = NewPins();

        Assert.True(pins.Observe("r", "t", Tool(Original)));
        Assert.True(pins.Observe("r", "t", Tool(Original)));
        Assert.False(pins.Observe("r", "t", Tool(Original.Replace("true", "false", StringComparison.Ordinal))));
        // "u" was approved for another definition: what is listed now waits for an operator.
        Assert.False(pins.Observe("r", "u", Tool("""{"name":"u","description":"changed","inputSchema":{"type":"object"}}""")));
    }

    [Fact]
    public void ApproveWithAStaleHash_ApprovesNothing()
    {
        var pins = NewPins();
        pins.Observe("r", "t", Tool(Original));
        pins.Observe("r", "t", Tool(Original.Replace("\"d\"", "\"d2\"", StringComparison.Ordinal)));
        var pin = pins.All().Single();
        Assert.False(pins.Approve("r", "t", pin.ApprovedHash));
        Assert.True(pins.IsWithheld("r", "t"));
        Assert.True(pins.Approve("r", "t", pin.LatestHash));
        Assert.False(pins.IsWithheld("r", "t"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
