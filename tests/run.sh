#!/usr/bin/env bash
# Runs every test of AgentPerimeter. Installs what the tests need when it is missing
# (Debian packages: prometheus for the dashboard and alert tests, redis-server for the rate-limit tests,
# nginx as the load balancer of the rolling-restart test, kubectl to render deploy/kubernetes,
# chromium for the approval page's real-browser test;
# the npm packages @modelcontextprotocol/sdk and @modelcontextprotocol/conformance for the MCP
# interop and conformance tests, puppeteer-core to drive chromium),
# builds the solution, runs every test assembly, and ends with one line summing them all:
# "N passed, N failed".
#
# The tests come in two projects:
#   tests/AgentPerimeter.Gateway.UnitTests        pure in-process (policy, globs, path guard, audit
#                                                 chain, scrubber, configuration validation): seconds,
#                                                 nothing to install. Run only these with
#                                                   dotnet test tests/AgentPerimeter.Gateway.UnitTests
#   tests/AgentPerimeter.Gateway.FunctionalTests  real Kestrel on port 0, the product's programs as
#                                                 child processes, redis-server, prometheus, node
# Both share tests/AgentPerimeter.Testing (test upstreams, a test gateway, Eventually, ChildProcess).
set -uo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing test dependencies with apt-get (Debian packages): ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "could not install ${missing[*]} (apt-get failed)"; echo "0 passed, 1 failed"; exit 1; }
fi

# The MCP interop and conformance tests drive the gateway with software nobody here wrote: the
# TypeScript SDK and the official MCP conformance suite.
node_dir=tests/AgentPerimeter.Gateway.FunctionalTests/Mcp/node
if [ ! -d "$node_dir/node_modules/@modelcontextprotocol/sdk" ] || [ ! -d "$node_dir/node_modules/@modelcontextprotocol/conformance" ] \
   || [ ! -d "$node_dir/node_modules/@modelcontextprotocol/client" ] || [ ! -d "$node_dir/node_modules/@modelcontextprotocol/server" ] \
   || [ ! -d "$node_dir/node_modules/puppeteer-core" ]; then
  echo "Installing the TypeScript MCP SDKs (v1; v2 client and server), the MCP conformance suite and puppeteer-core (npm ci)"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || { echo "npm ci failed in $node_dir"; echo "0 passed, 1 failed"; exit 1; }
fi

# The Kubernetes manifests are validated against the Kubernetes schemas (npm kubernetes-models).
deploy_dir=tests/AgentPerimeter.Gateway.FunctionalTests/Deploy/node
if [ ! -d "$deploy_dir/node_modules/kubernetes-models" ]; then
  echo "Installing the Kubernetes schemas for the manifest test (npm ci)"
  (cd "$deploy_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || { echo "npm ci failed in $deploy_dir"; echo "0 passed, 1 failed"; exit 1; }
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p artifacts
dotnet build AgentPerimeter.sln -c Debug > artifacts/build.log 2>&1
grep -E " error |Build succeeded|Time Elapsed" artifacts/build.log
if ! grep -q "Build succeeded" artifacts/build.log; then
  echo "build failed (see artifacts/build.log)"
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test AgentPerimeter.sln -c Debug --no-build --logger "console;verbosity=normal" 2>&1 | tee artifacts/test.log
status=${PIPESTATUS[0]}

# Sum the per-assembly summaries ("Passed!  - Failed: 0, Passed: 100, Skipped: 0, Total: 100").
passed=$(grep -Eo 'Passed: +[0-9]+' artifacts/test.log | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' artifacts/test.log | awk '{s+=$2} END {print s+0}')
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$passed" -eq 0 ]; then status=1; fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
