using AgentPerimeter.Benchmarks;

// `serve-yarp UPSTREAM` is the bare-YARP child process the benchmark starts; anything else runs the benchmark.
if (args.Length > 0 && args[0] == Servers.ServeYarpCommand)
    return await Servers.ServeYarpChildAsync(args);

return await BenchmarkRunner.RunAsync(args);
