namespace AgentPerimeter.Gateway.FunctionalTests.Infrastructure;

/// <summary>Runs the <c>perimeter</c> CLI in-process and captures what it printed.</summary>
internal static class CliRunner
{
    // Console.Out is one per process and test classes run in parallel: one capture at a time, or one
    // test's output lands in another's writer and a restore puts back the wrong one.
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    /// <summary>Runs the CLI capturing stdout and stderr.</summary>
    public static async Task<(int Exit, string Output, string Error)> RunCapturingErrorsAsync(string[] args)
    {
        await OneAtATime.WaitAsync();
        var output = new StringWriter();
        var error = new StringWriter();
        var (originalOut, originalError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            return (await Cli.Cli.RunAsync(args), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
            OneAtATime.Release();
        }
    }

    public static async Task<(int Exit, string Output)> RunAsync(string[] args)
    {
        await OneAtATime.WaitAsync();
        var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        try
        {
            return (await Cli.Cli.RunAsync(args), output.ToString());
        }
        finally
        {
            Console.SetOut(original);
            OneAtATime.Release();
        }
    }
}
