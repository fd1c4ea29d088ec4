namespace AgentPerimeter.Benchmarks;

/// <summary>
/// What the run found wrong: problems (the run failed: non-2xx answers, uncounted actions, a child that died)
/// and notes (worth reading, not a failure: socket errors, requests cut off when a load run ended, a busy machine).
/// </summary>
internal sealed class Findings
{
    public List<string> Problems { get; } = [];
    public List<string> Notes { get; } = [];
}
