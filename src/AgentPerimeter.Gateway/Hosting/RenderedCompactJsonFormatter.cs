using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>
/// Compact JSON (CLEF) with the rendered message (<c>@m</c>) besides the template (<c>@mt</c>): a
/// person reading the raw log sees the sentence, and log tools can still group by template.
/// </summary>
internal sealed class RenderedCompactJsonFormatter : ITextFormatter
{
    private readonly CompactJsonFormatter _inner = new();

    public void Format(LogEvent logEvent, TextWriter output)
    {
        var line = new StringWriter();
        _inner.Format(logEvent, line);
        var text = line.ToString();
        var rendered = System.Text.Json.JsonSerializer.Serialize(logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));
        // CLEF lines start with {"@t":"…", : the rendered message goes right after the timestamp.
        int afterTime = text.IndexOf("\",", StringComparison.Ordinal);
        if (text.StartsWith("{\"@t\":", StringComparison.Ordinal) && afterTime > 0)
        {
            output.Write(text.AsSpan(0, afterTime + 2));
            output.Write("\"@m\":");
            output.Write(rendered);
            output.Write(',');
            output.Write(text.AsSpan(afterTime + 2));
        }
        else
            output.Write(text);
    }
}
