using AgentPerimeter.Cli;

return await Cli.RunAsync(args);
