using Serilog.Core;
using Serilog.Events;

namespace AgentPerimeter.Gateway.Secrets;

/// <summary>
/// Sits in front of the real log sinks and masks every secret value the gateway holds in property
/// values and exception texts, so no log line — whoever wrote it, the gateway, YARP or the runtime —
/// carries a secret.
/// </summary>
internal sealed class ScrubbingLogSink(ILogEventSink inner, SecretScrubber scrubber) : ILogEventSink, IDisposable
{
    public void Emit(LogEvent logEvent)
    {
        if (scrubber.IsEmpty)
        {
            inner.Emit(logEvent);
            return;
        }
        var properties = logEvent.Properties.Select(p => new LogEventProperty(p.Key, Scrub(p.Value)));
        var exception = logEvent.Exception is { } ex && scrubber.Contains(ex.ToString()) ? new ScrubbedException(ex, scrubber) : logEvent.Exception;
        inner.Emit(new LogEvent(logEvent.Timestamp, logEvent.Level, exception, logEvent.MessageTemplate, properties, logEvent.TraceId ?? default, logEvent.SpanId ?? default));
    }

    private LogEventPropertyValue Scrub(LogEventPropertyValue value)
    {
        if (value is ScalarValue { Value: string s })
            return scrubber.Contains(s) ? new ScalarValue(scrubber.Scrub(s)) : value;
        var rendered = value.ToString();
        return scrubber.Contains(rendered) ? new ScalarValue(scrubber.Scrub(rendered)) : value;
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    /// <summary>An exception whose text has been scrubbed (type name and scrubbed message and stack).</summary>
    private sealed class ScrubbedException(Exception original, SecretScrubber scrubber)
        : Exception(scrubber.Scrub(original.Message))
    {
        public override string ToString() => scrubber.Scrub(original.ToString())!;

        public override string? StackTrace => null;
    }
}
