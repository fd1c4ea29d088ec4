using System.Buffers;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.UnitTests.Secrets;

/// <summary>A secret is masked in every spelling a standard JSON or URL decoder turns back into it.</summary>
public sealed class EncodedSecretScrubbingTests
{
    private const string Secret = "sk-live/Ab9+Zz";

    private static SecretScrubber NewScrubber()
    {
        var scrubber = new SecretScrubber();
        scrubber.Remember("key", Secret);
        return scrubber;
    }

    private static string JsonEscapeEvery(string s, bool upper) =>
        string.Concat(s.Select(c => "\\u" + ((int)c).ToString(upper ? "X4" : "x4")));

    private static string PercentEvery(string s, bool upper) =>
        string.Concat(Encoding.UTF8.GetBytes(s).Select(b => "%" + b.ToString(upper ? "X2" : "x2")));

    public static TheoryData<string, string> Spellings => new()
    {
        { "literal", Secret },
        { "every char \\u, lower hex", JsonEscapeEvery(Secret, upper: false) },
        { "every char \\u, upper hex", JsonEscapeEvery(Secret, upper: true) },
        { "one char \\u", "sk-\\u006Cive/Ab9+Zz" },
        { "escaped slash", "sk-live\\/Ab9+Zz" },
        { "mixed escapes", "\\u0073k-live\\/A\\u00629+Zz" },
        { "every byte %, lower", PercentEvery(Secret, upper: false) },
        { "every byte %, upper", PercentEvery(Secret, upper: true) },
        { "some bytes %", "sk-live%2fAb9%2BZz" },
        { "one byte %", "%73k-live/Ab9+Zz" },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void EverySpelling_IsMasked_InTextAndInStreamedChunks(string name, string spelling)
    {
        var scrubber = NewScrubber();
        var text = $"{{\"note\":\"before {spelling} after\"}}";

        Assert.True(scrubber.Contains(text), name);
        var scrubbed = scrubber.Scrub(text)!;
        Assert.Equal("{\"note\":\"before [REDACTED] after\"}", scrubbed);

        // A decoder restores nothing secret from what is left.
        Assert.DoesNotContain(Secret, JsonDocument.Parse(scrubbed).RootElement.GetProperty("note").GetString());

        // Streamed in small chunks, with the tail held back, the result is the same.
        for (int chunk = 1; chunk <= 64; chunk *= 2)
            Assert.Equal(scrubbed, Stream(scrubber, Encoding.UTF8.GetBytes(text), chunk));
    }

    [Theory]
    [InlineData("sk-live/Ab9+Z")]           // one character short
    [InlineData("sk-live/Ab9+Zy")]          // one character different
    [InlineData("sk-\\u006Dive/Ab9+Zz")]    // an escape of another character
    [InlineData("sk-live%2GAb9+Zz")]        // not a percent-escape
    public void NearMisses_AreLeftAlone(string text)
    {
        var scrubber = NewScrubber();
        Assert.False(scrubber.Contains(text));
        Assert.Equal(text, scrubber.Scrub(text));
    }

    [Fact]
    public void NonAsciiSecret_IsFoundEscapedAndPercentEncoded()
    {
        var scrubber = new SecretScrubber();
        scrubber.Remember("k", "pässwörd-😀-x");
        Assert.Equal("[REDACTED]", scrubber.Scrub("p\\u00e4ssw\\u00F6rd-\\ud83d\\ude00-x"));
        Assert.Equal("[REDACTED]", scrubber.Scrub(Uri.EscapeDataString("pässwörd-😀-x")));
        Assert.Equal("[REDACTED]", scrubber.Scrub("p%C3%A4sswörd-%F0%9F%98%80-x"));
    }

    private static string Stream(SecretScrubber scrubber, byte[] data, int chunk)
    {
        var output = new ArrayBufferWriter<byte>();
        var pending = new List<byte>();
        for (int i = 0; i < data.Length; i += chunk)
        {
            pending.AddRange(data.Skip(i).Take(chunk));
            int consumed = scrubber.ScrubChunk(pending.ToArray(), final: false, output);
            pending.RemoveRange(0, consumed);
        }
        scrubber.ScrubChunk(pending.ToArray(), final: true, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
