using AgentPerimeter.Gateway.Hosting;

return await PerimeterApp.RunAsync(args);
