using AgentPerimeter.Benchmarks;

// `serve-yarp UPSTREAM` and `serve-mcp` are the child processes the benchmark starts (bare YARP, the
// MCP server); anything else runs the benchmark.
if (args.Length > 0 && args[0] == Servers.ServeYarpCommand)
    return await Servers.ServeYarpChildAsync(args);
if (args.Length > 0 && args[0] == McpBench.ServeMcpCommand)
    return await McpBench.ServeChildAsync(args);

return await BenchmarkRunner.RunAsync(args);
