namespace AgentPerimeter.Benchmarks;

/// <summary>The ports of the egress destinations in the benchmark process: the HTTPS origin and the silent TCP server.</summary>
internal readonly record struct EgressPorts(int Https, int Silent);
