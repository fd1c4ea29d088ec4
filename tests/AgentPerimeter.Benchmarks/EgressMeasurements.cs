namespace AgentPerimeter.Benchmarks;

/// <summary>What the egress part of the run measured besides the downloads (which are transfer targets): new tunnels' first byte, and idle tunnels' memory.</summary>
internal sealed record EgressMeasurements(EgressFirstByte FirstByte, EgressIdleTunnels IdleTunnels);
