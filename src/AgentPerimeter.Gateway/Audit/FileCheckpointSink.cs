using System.Text.Json;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>Appends checkpoints as JSON lines to a file the operator ships elsewhere (<c>perimeter audit verify --checkpoints FILE</c>).</summary>
public sealed partial class FileCheckpointSink(string path, ILogger<FileCheckpointSink> logger) : IAuditCheckpointSink
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public void Publish(AuditCheckpoint checkpoint)
    {
        try
        {
            var line = JsonSerializer.Serialize(new { time = checkpoint.Time.UtcDateTime.ToString("O"), file = checkpoint.File, seq = checkpoint.Seq, hash = checkpoint.Hash }) + "\n";
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var stream = new FileStream(Path, options);
            stream.Write(System.Text.Encoding.UTF8.GetBytes(line));
            stream.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A missing checkpoint weakens truncation detection; it does not stop actions (the log itself does).
            Log.Failed(logger, Path, ex.GetType().Name, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 310, Level = LogLevel.Error, Message = "Audit checkpoint could not be written to {Path} ({ErrorType}: {Error})")]
        public static partial void Failed(ILogger logger, string path, string errorType, string error);
    }
}
