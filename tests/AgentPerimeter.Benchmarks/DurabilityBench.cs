namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The audit-durability comparison: the main gateway keeps the default, <c>Fsync</c> (every audit batch flushed to the
/// device before its actions proceed, group commit); one more gateway, otherwise the same, runs with <c>Write</c> (each
/// batch handed to the kernel before its actions proceed, flushed at most every <c>Gateway:Audit:FlushInterval</c>).
/// </summary>
internal static class DurabilityBench
{
    public const string Fsync = "Fsync";
    public const string Write = "Write";

    /// <summary>The write-mode gateway's directory (its config/ and data/) in the run's temporary directory.</summary>
    public const string WriteGatewayDirectory = "gateway-write-durability";

    /// <summary>The command-line argument that sets the mode (<c>Gateway:Audit:Durability</c>).</summary>
    public static string GatewayArgument(string mode) => $"--Gateway:Audit:Durability={mode}";

    /// <summary>How the gateway's info metric <c>agentperimeter_audit_durability{mode="…"}</c> names a mode.</summary>
    public static string MetricLabel(string mode) => mode.ToLowerInvariant();
}
