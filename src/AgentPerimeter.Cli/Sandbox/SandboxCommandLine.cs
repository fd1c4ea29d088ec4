namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// Splits <c>[OPTIONS] [--] COMMAND [ARGS…]</c>: options are read only up to <c>--</c> or the first word
/// that is not an option, so the command's own options (<c>curl --max-time 5</c>) are never taken for ours.
/// An option the verb does not know is an error rather than the start of the command.
/// </summary>
internal static class SandboxCommandLine
{
    public static (Args Options, string[] Command) Split(string[] args, string verb, IReadOnlySet<string> valueOptions)
    {
        var options = new List<string>();
        int i = 0;
        for (; i < args.Length; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                i++;
                break;
            }
            if (!a.StartsWith("--", StringComparison.Ordinal))
                break;
            var eq = a.IndexOf('=');
            var name = eq > 0 ? a[2..eq] : a[2..];
            if (!valueOptions.Contains(name))
                throw new ArgsException($"unknown option '{a}' for '{verb}' (put the command after '--': perimeter {verb} [OPTIONS] -- COMMAND [ARGS...]).");
            if (eq < 0)
            {
                if (i + 1 >= args.Length)
                    throw new ArgsException($"{a} needs a value.");
                // As --name=value, so that Args keeps a value that itself starts with "--".
                a = $"--{name}={args[++i]}";
            }
            options.Add(a);
        }
        return (new Args([.. options]), args[i..]);
    }
}
