using System.Buffers;
using System.Text;
using AgentPerimeter.Gateway.Mcp;

namespace AgentPerimeter.Gateway.UnitTests.Mcp;

public sealed class SseEventParserTests
{
    /// <summary>Feeds <paramref name="stream"/> in pieces of <paramref name="piece"/> bytes, as a network would.</summary>
    private static List<SseEvent> ParseInPieces(string stream, int piece, int max = 1 << 20)
    {
        var bytes = Encoding.UTF8.GetBytes(stream);
        var parser = new SseEventParser(max);
        var events = new List<SseEvent>();
        var pending = new List<byte>();
        for (int i = 0; i < bytes.Length; i += piece)
        {
            pending.AddRange(bytes.Skip(i).Take(piece));
            var buffer = new ReadOnlySequence<byte>(pending.ToArray());
            var consumed = parser.Parse(buffer, isFinal: false, events);
            pending = [.. buffer.Slice(consumed).ToArray()];
        }
        parser.Parse(new ReadOnlySequence<byte>(pending.ToArray()), isFinal: true, events);
        return events;
    }

    public static TheoryData<string> SameTwoEvents => new()
    {
        "id: 1\ndata: a\ndata: b\n\ndata: c\n\n",
        "id: 1\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
        "id: 1\rdata: a\rdata: b\r\rdata: c\r\r",
        "\uFEFFid: 1\ndata:a\ndata:b\n\n: comment\ndata: c\n\n",
        "id: 1\ndata: a\rdata: b\r\ndata: c",
    };

    [Theory]
    [MemberData(nameof(SameTwoEvents))]
    public void EveryLineEndingAndSplit_GivesTheEventsAClientDispatches(string stream)
    {
        for (int piece = 1; piece <= stream.Length; piece++)
        {
            var events = ParseInPieces(stream, piece);
            var data = events.Where(e => e.Data is not null).Select(e => e.Data).ToList();
            if (stream.EndsWith("data: c", StringComparison.Ordinal))
                Assert.Equal(["a\nb\nc"], data); // one event: the CR ended lines, never the event
            else
                Assert.Equal(["a\nb", "c"], data);
            Assert.Equal("1", events[0].Id);
        }
    }

    [Fact]
    public void ACrAtTheEndOfOneReadAndAnLfAtTheStartOfTheNext_AreOneLineEnd()
    {
        var events = ParseInPieces("data: x\r\n\r\ndata: y\r\n\r\n", 8); // "data: x\r" | "\n\r\ndata:" ...
        Assert.Equal(["x", "y"], events.Select(e => e.Data));
    }

    [Fact]
    public void FieldsWithoutColon_UnknownFields_AndBadRetry_AreReadAsClientsReadThem()
    {
        var events = ParseInPieces("data\nfoo: bar\nretry: 12x\nretry: 300\nevent: message\n\n", 5);
        var e = Assert.Single(events);
        Assert.Equal("", e.Data);
        Assert.Equal("300", e.Retry);
        Assert.Equal("message", e.EventType);
        var written = new StringBuilder();
        SseEventParser.Write(written, e, e.Data);
        Assert.Equal("event: message\nretry: 300\ndata: \n\n", written.ToString());
    }

    [Fact]
    public void AnEventLargerThanTheLimit_IsRefused_EvenWithoutALineEnd()
    {
        Assert.Throws<InvalidDataException>(() => ParseInPieces("data: " + new string('x', 5000) + "\n\n", 512, max: 4096));
        Assert.Throws<InvalidDataException>(() => ParseInPieces("data: " + new string('x', 5000), 512, max: 4096));
    }
}
