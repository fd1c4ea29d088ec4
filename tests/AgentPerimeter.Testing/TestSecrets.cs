using System.Collections.Concurrent;

namespace AgentPerimeter.Testing;

/// <summary>
/// Every secret value any test hands a gateway. Each <see cref="TestGateway"/> greps its audit log and
/// its log file for all of them when it is disposed, so every log and audit line written during the
/// whole run is searched, and a leak fails the test that caused it.
/// </summary>
public static class TestSecrets
{
    private static readonly ConcurrentDictionary<string, byte> Values = new();

    /// <summary>The demo secret shipped in config/secrets (used by the demo and shipped-config tests).</summary>
    public const string Demo = "demo-customers-key-7f3a9c1e5b";

    static TestSecrets() => Values.TryAdd(Demo, 0);

    /// <summary>A fresh, recognizable secret value, registered for the leak search.</summary>
    public static string New(string label)
    {
        var value = $"s3cr3t-{label}-{Guid.NewGuid():N}";
        Values.TryAdd(value, 0);
        return value;
    }

    public static IEnumerable<string> All => Values.Keys;

    /// <summary>Throws if any known secret value appears in any file under <paramref name="directory"/>.</summary>
    public static void AssertNoneIn(string directory)
    {
        if (!Directory.Exists(directory))
            return;
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(".pem", StringComparison.Ordinal))
                continue;
            string text;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                text = new StreamReader(stream).ReadToEnd();
            foreach (var value in All)
            {
                if (text.Contains(value, StringComparison.Ordinal))
                    throw new Xunit.Sdk.XunitException($"secret value leaked into {file}");
            }
        }
    }
}
