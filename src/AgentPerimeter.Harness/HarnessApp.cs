using System.Diagnostics;
using System.Text.Json;
using Anthropic;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Microsoft.Extensions.AI;
using Serilog;
using Serilog.Extensions.Logging;

namespace AgentPerimeter.Harness;

/// <summary>The harness host: <c>run</c> and <c>resume</c>, its model, logs and spans.</summary>
public static class HarnessApp
{
    public const int ExitInvalidArguments = 2;
    public const int ExitFailed = 1;

    /// <summary>Exit code 0 when the session completed, 3 when a budget or another typed reason stopped it.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            await Console.Out.WriteLineAsync(HarnessOptions.Usage);
            return args.Length == 0 ? ExitInvalidArguments : 0;
        }
        var command = args[0];
        string? resumeId = null;
        var rest = args.Skip(1).ToArray();
        if (command == "resume")
        {
            if (rest.Length == 0 || rest[0].StartsWith("--", StringComparison.Ordinal))
                return await FailAsync("resume needs the session id: agentperimeter-harness resume SESSION_ID");
            resumeId = rest[0];
            rest = rest[1..];
        }
        else if (command != "run")
            return await FailAsync($"unknown command '{command}'.\n{HarnessOptions.Usage}");

        var config = new ConfigurationBuilder().AddCommandLine(rest).Build();
        var (options, error) = HarnessOptions.Read(config);
        if (options is null)
            return await FailAsync(error!);
        if (command == "run" && ((string.IsNullOrWhiteSpace(options.WorkType) && options.SessionToken is null) || string.IsNullOrWhiteSpace(options.Task)))
            return await FailAsync("run needs --work-type TYPE (or --token-file) and --task \"...\".");
        if (options.ScriptFile is null && string.IsNullOrEmpty(options.AnthropicApiKey))
            return await FailAsync("no model: set ANTHROPIC_API_KEY for Claude, or pass --script FILE for a scripted model.");

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            var result = await RunSessionAsync(options, resumeId, cts.Token);
            await Console.Out.WriteLineAsync($"session {result.SessionId} stopped: {result.Reason} — {result.Detail} ({result.Turns} turns, {result.InputTokens} input / {result.OutputTokens} output tokens)");
            return result.Reason == "completed" ? 0 : 3;
        }
        catch (HarnessException ex)
        {
            return await FailAsync(ex.Message, ExitFailed);
        }
        catch (HttpRequestException ex)
        {
            return await FailAsync($"cannot reach the gateway ({ex.Message}); check --gateway and --admin.", ExitFailed);
        }
    }

    /// <summary>
    /// Runs (or resumes) one session with logs on the console and in the journal directory, and spans in
    /// a file. <paramref name="time"/> is the session's clock (budgets, journal stamps, waits); the system's by default.
    /// </summary>
    public static async Task<StopResult> RunSessionAsync(HarnessOptions options, string? resumeId, CancellationToken cancellationToken,
        IChatClient? chatOverride = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        Directory.CreateDirectory(options.JournalDirectory);
        var log = new LoggerConfiguration()
            .MinimumLevel.Information()
            .WriteTo.File(new Serilog.Formatting.Compact.CompactJsonFormatter(), Path.Combine(options.JournalDirectory, "harness.log"));
        if (options.ConsoleLogs)
            log.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}");
        using var serilog = log.CreateLogger();
        using var loggers = new SerilogLoggerFactory(serilog);
        var logger = loggers.CreateLogger("AgentPerimeter.Harness");
        using var spans = new SpanFile(Path.Combine(options.JournalDirectory, "spans.jsonl"));
        // With OTEL_EXPORTER_OTLP_ENDPOINT set, the same spans also go to an OpenTelemetry collector
        // (Jaeger, Tempo, ...) over OTLP; the standard OTEL_* variables configure the exporter.
        using var tracer = string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")) ? null
            : OpenTelemetry.Sdk.CreateTracerProviderBuilder()
                .ConfigureResource(r => r.AddService("agentperimeter-harness"))
                .AddSource(HarnessSession.SourceName)
                .AddOtlpExporter()
                .Build();
        SpanFile.Current.Value = spans; // spans of this run only (several runs may share the process)

        using var chat = chatOverride ?? CreateChatClient(options, loggers.CreateLogger("AgentPerimeter.Harness.Model"), time);
        await using var gateway = new GatewayClient(options, time);
        var session = new HarnessSession(options, chat, gateway, logger, time);
        return resumeId is null
            ? await session.StartAsync(cancellationToken).ConfigureAwait(false)
            : await session.ResumeAsync(resumeId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The scripted model, or Claude through the official Anthropic SDK with the harness's retry policy.</summary>
    public static IChatClient CreateChatClient(HarnessOptions options, Microsoft.Extensions.Logging.ILogger logger, TimeProvider? time = null)
    {
        if (options.ScriptFile is { } script)
            return new ScriptedChatClient(script);
        var client = string.IsNullOrEmpty(options.AnthropicBaseUrl)
            ? new AnthropicClient
            {
                ApiKey = options.AnthropicApiKey!,
                MaxRetries = 0, // one retry policy: ModelRetryHandler (429/5xx, retry-after)
                HttpClient = new HttpClient(new ModelRetryHandler(logger, time: time)) { Timeout = TimeSpan.FromMinutes(10) },
            }
            : new AnthropicClient
            {
                ApiKey = options.AnthropicApiKey!,
                BaseUrl = options.AnthropicBaseUrl,
                MaxRetries = 0,
                HttpClient = new HttpClient(new ModelRetryHandler(logger, time: time)) { Timeout = TimeSpan.FromMinutes(10) },
            };
        return client.AsIChatClient(options.Model, options.MaxTokensPerTurn);
    }

    private static async Task<int> FailAsync(string message, int code = ExitInvalidArguments)
    {
        await Console.Error.WriteLineAsync("error: " + message);
        return code;
    }

    /// <summary>Writes every harness span (OpenTelemetry GenAI names and attributes) as a JSON line.</summary>
    private sealed class SpanFile : IDisposable
    {
        public static readonly AsyncLocal<SpanFile?> Current = new();

        private readonly ActivityListener _listener;
        private readonly StreamWriter _writer;
        private readonly Lock _lock = new();

        public SpanFile(string path)
        {
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == HarnessSession.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = Write,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        private void Write(Activity activity)
        {
            if (!ReferenceEquals(Current.Value, this))
                return;
            var line = JsonSerializer.Serialize(new
            {
                name = activity.DisplayName,
                trace_id = activity.TraceId.ToString(),
                span_id = activity.SpanId.ToString(),
                parent_span_id = activity.ParentSpanId == default ? null : activity.ParentSpanId.ToString(),
                start = activity.StartTimeUtc.ToString("O"),
                duration_ms = activity.Duration.TotalMilliseconds,
                status = activity.Status.ToString(),
                attributes = activity.TagObjects.ToDictionary(t => t.Key, t => t.Value),
            });
            lock (_lock)
                _writer.WriteLine(line);
        }

        public void Dispose()
        {
            _listener.Dispose();
            _writer.Dispose();
        }
    }
}
