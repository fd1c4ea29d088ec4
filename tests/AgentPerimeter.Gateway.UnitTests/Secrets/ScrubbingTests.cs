using System.Text;
using AgentPerimeter.Gateway.Secrets;
using AgentPerimeter.Testing;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace AgentPerimeter.Gateway.UnitTests.Secrets;

public class ScrubbingTests
{
    private sealed class CollectingSink : ILogEventSink
    {
        public List<LogEvent> Events { get; } = [];
        public void Emit(LogEvent logEvent) => Events.Add(logEvent);
    }

    [Fact]
    public void LogSink_MasksSecretValues_InPropertiesAndExceptions()
    {
        var secret = TestSecrets.New("log");
        var scrubber = new SecretScrubber();
        scrubber.Remember("k", secret);
        var inner = new CollectingSink();
        var sink = new ScrubbingLogSink(inner, scrubber);
        var template = new MessageTemplateParser().Parse("Upstream said {Body}");

        sink.Emit(new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Error, new InvalidOperationException($"bad key {secret}"), template,
            [new LogEventProperty("Body", new ScalarValue($"token={secret}")), new LogEventProperty("Safe", new ScalarValue(42))]));

        var written = Assert.Single(inner.Events);
        var text = new StringWriter();
        new Serilog.Formatting.Compact.CompactJsonFormatter().Format(written, text);
        Assert.DoesNotContain(secret, text.ToString());
        Assert.Contains("token=[REDACTED]", text.ToString());
        Assert.Contains("bad key [REDACTED]", text.ToString());
        Assert.Equal(42, ((ScalarValue)written.Properties["Safe"]).Value);
    }

    [Fact]
    public void StreamScrubber_FindsAValueSplitAcrossChunks_AtEveryPossibleSplit()
    {
        var secret = "abcdefghij-SECRET";
        var scrubber = new SecretScrubber();
        scrubber.Remember("k", secret);
        var text = $"before {secret} after";
        for (int split = 1; split < text.Length; split++)
        {
            // As the response copier does: a first chunk, then what it left unconsumed plus the next.
            var output = new System.Buffers.ArrayBufferWriter<byte>();
            var first = Encoding.UTF8.GetBytes(text[..split]);
            int consumed = scrubber.ScrubChunk(first, final: false, output);
            var rest = first[consumed..].Concat(Encoding.UTF8.GetBytes(text[split..])).ToArray();
            Assert.Equal(rest.Length, scrubber.ScrubChunk(rest, final: true, output));
            Assert.Equal("before [REDACTED] after", Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    [Fact]
    public void ReEncodedForms_OfAValue_AreMaskedToo()
    {
        var scrubber = new SecretScrubber();
        scrubber.Remember("k", "ab+cd/ef=gh\"ij");

        Assert.Equal("json [REDACTED] url [REDACTED] raw [REDACTED]",
            scrubber.Scrub("json ab\\u002Bcd/ef=gh\\u0022ij url ab%2Bcd%2Fef%3Dgh%22ij raw ab+cd/ef=gh\"ij"));
    }

    [Fact]
    public void LeakSearch_ItselfDetectsALeak()
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-leak-").FullName;
        var secret = TestSecrets.New("canary");
        File.WriteAllText(Path.Combine(dir, "audit.jsonl"), $"{{\"path\":\"/x/{secret}\"}}\n");

        Assert.Throws<Xunit.Sdk.XunitException>(() => TestSecrets.AssertNoneIn(dir));
        Directory.Delete(dir, recursive: true);
    }
}
