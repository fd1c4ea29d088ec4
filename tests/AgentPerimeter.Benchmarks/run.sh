#!/usr/bin/env bash
# Gateway benchmark: upstream vs bare YARP vs the full gateway (audit durability Fsync, the default) vs the same
# gateway with audit durability Write, and the disk's idle fsync latency; the gateway with in-memory vs Redis rate
# limits (a redis-server the benchmark starts on a free loopback port); MCP tools/call direct vs through
# the gateway (uninspected and inspected); and reverse tunnels: the same inspected MCP call, and a 10 MB
# upload, through the gateway directly vs through a tunnel served by a connector process (the gateway's
# tunnel listener on a free loopback port), with wrk and hey (uploads: one HttpClient, median MB/s); and sandbox
# egress through the main gateway's egress listener (port 0, read from its log): a 10 MB HTTPS download direct vs
# through a CONNECT tunnel, the time to first byte of fresh tunnels vs direct connections, and the gateway's RSS
# with 1,000 idle tunnels open (the HTTPS origin and a silent TCP server run in the benchmark process).
# Builds the gateway, the connector and the benchmark in Release, runs it, and writes docs/benchmarks.md.
#
#   tests/AgentPerimeter.Benchmarks/run.sh                                              # full run (~10 min)
#   BENCH_WARMUP=3 BENCH_ROUNDS=1 BENCH_SECONDS=3 tests/AgentPerimeter.Benchmarks/run.sh  # smoke run
#
# Variables (all optional): BENCH_WARMUP (s per target, 20), BENCH_MCP_WARMUP (s per MCP target, 10 or
# BENCH_WARMUP if shorter), BENCH_LIMITS_WARMUP (s per rate-limit gateway, 10 or BENCH_WARMUP if shorter),
# BENCH_ROUNDS (3), BENCH_SECONDS (10),
# BENCH_CONNECTIONS (32), BENCH_FIXED_SECONDS (10), BENCH_FIXED_RATE (req/s, 1000),
# BENCH_YARP (process | inproc), BENCH_OUTPUT (docs/benchmarks.md, relative to the repository root),
# BENCH_REDIS_SERVER (the redis-server binary; default: redis-server on PATH),
# BENCH_GATEWAY_DLL / BENCH_CONNECTOR_DLL (default: the Release builds made here).
# Needs wrk, hey and redis-server. Exit code 0 whether or not a target is met; non-zero if the run failed
# (including any 429/503 or rate-limit store error from the rate-limit gateways).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

for tool in dotnet wrk hey "${BENCH_REDIS_SERVER:-redis-server}"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: '$tool' is not on PATH" >&2; exit 1; }
done

# Release only: Debug output belongs to day-to-day development and is never touched here.
dotnet build -c Release --nologo -v quiet src/AgentPerimeter.Gateway
dotnet build -c Release --nologo -v quiet src/AgentPerimeter.Connector
dotnet build -c Release --nologo -v quiet tests/AgentPerimeter.Benchmarks

# exec: Ctrl+C and SIGTERM reach the benchmark itself, which stops every process it started.
exec dotnet tests/AgentPerimeter.Benchmarks/bin/Release/net10.0/AgentPerimeter.Benchmarks.dll --repo "$repo" "$@"
