return await AgentPerimeter.Harness.HarnessApp.RunAsync(args);
