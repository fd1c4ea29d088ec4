namespace AgentPerimeter.Cli;

/// <summary>The command line is wrong; the message says how to write it.</summary>
internal sealed class ArgsException(string message) : Exception(message);
