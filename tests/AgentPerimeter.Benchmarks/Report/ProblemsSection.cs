using System.Text;

namespace AgentPerimeter.Benchmarks;

/// <summary>The run's problems and notes; no section when there are none.</summary>
internal static class ProblemsSection
{
    public static void Write(StringBuilder sb, ReportView v)
    {
        var d = v.Data;
        if (d.Problems.Count == 0 && d.Notes.Count == 0)
            return;
        sb.AppendLine("## Problems and notes");
        sb.AppendLine();
        foreach (var p in d.Problems)
            sb.AppendLine($"- **problem:** {p}");
        foreach (var n in d.Notes)
            sb.AppendLine($"- note: {n}");
        sb.AppendLine();
    }
}
