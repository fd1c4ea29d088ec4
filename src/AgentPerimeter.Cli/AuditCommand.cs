using AgentPerimeter.Protocol.Audit;

namespace AgentPerimeter.Cli;

/// <summary><c>perimeter audit verify FILE</c>.</summary>
internal static class AuditCommand
{
    public static int Verify(Args args)
    {
        if (args.Positionals.Count != 1)
            throw new ArgsException("usage: perimeter audit verify FILE");
        var file = args.Positionals[0];
        if (!File.Exists(file))
            return Cli.Fail($"audit log '{file}' does not exist.");
        var result = AuditVerifier.Verify(file);
        if (result.IsIntact)
        {
            Console.Out.WriteLine($"{file}: OK — {result.Records} records, chain intact, last hash {result.LastHash ?? "(empty log)"}");
            return 0;
        }
        Console.Error.WriteLine($"{file}: TAMPERED — {result.Errors.Count} problem(s) in {result.Records} records:");
        foreach (var e in result.Errors)
            Console.Error.WriteLine($"  - {e}");
        return 1;
    }
}
