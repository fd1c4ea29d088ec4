return await AgentPerimeter.Connector.ConnectorApp.RunAsync(args);
