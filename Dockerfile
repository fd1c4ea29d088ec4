# AgentPerimeter gateway image (the default target) and connector image (--target connector).
#
#   docker build -t agentperimeter .
#   docker build --target connector -t agentperimeter-connector .
#   docker build --target harness -t agentperimeter-harness .
#   docker run --rm -v /etc/agentperimeter:/etc/agentperimeter:ro agentperimeter-connector \
#     --gateway https://gateway.example.com:8443 --tunnel crm-mcp --target http://crm-mcp:7000 \
#     --credential-file /etc/agentperimeter/tunnel-crm-mcp
#
#   openssl rand -hex 32 > admin-token
#   docker run --rm \
#     -p 8080:8080 -p 127.0.0.1:9090:9090 \
#     -v agentperimeter-data:/var/lib/agentperimeter \
#     -v "$PWD/config:/app/config:ro" \
#     -v "$PWD/admin-token:/run/secrets/agentperimeter-admin-token:ro" \
#     agentperimeter
#
# Ports: 8080 is the agent listener (proxied routes only); 9090 is the admin listener (/metrics,
# /healthz, /readyz, /admin/sessions). Publish 9090 to loopback or a private network only. /admin/*
# (which mints session tokens) needs the operators' token from /run/secrets/agentperimeter-admin-token
# (Gateway__Admin__TokenFile): the gateway does not start without that file, so the image never runs
# with an open admin API.
#
# Checking a configuration change before it is deployed (the same validation as startup, nothing started):
#   docker run --rm -v "$PWD/config:/app/config:ro" agentperimeter --check --config-dir /app/config
#
# Configuration: deploy/container/config/*.json (gateway.json, routes.json, perimeter.json) is baked into
# /app/config: a gateway that starts and refuses every action (no route, no secret, no demo address
# that could not exist in a container). Mount your own directory over it (read-only is
# fine): routes.json and perimeter.json are reloaded when they change. On mounts whose change events
# do not reach the container (some network or Kubernetes ConfigMap volumes) set
# DOTNET_USE_POLLING_FILE_WATCHER=true. Any setting can also be overridden with environment variables,
# e.g. Gateway__Logging__MinimumLevel=Warning or ReverseProxy__Clusters__demo__Destinations__demo-1__Address.
#
# State: the signing key and the hash-chained audit log live in /var/lib/agentperimeter. Keep it on a
# volume: a new key invalidates every issued token, and the audit log is the record of what agents did.

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src

# Restore from the project file and the central build/package settings alone, so this layer is reused
# until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/AgentPerimeter.Protocol/AgentPerimeter.Protocol.csproj src/AgentPerimeter.Protocol/
COPY src/AgentPerimeter.Gateway/AgentPerimeter.Gateway.csproj src/AgentPerimeter.Gateway/
RUN dotnet restore src/AgentPerimeter.Gateway/AgentPerimeter.Gateway.csproj

# The project links ../../config/*.json into its output, so config/ is part of the build.
COPY config/ config/
COPY src/AgentPerimeter.Protocol/ src/AgentPerimeter.Protocol/
COPY src/AgentPerimeter.Gateway/ src/AgentPerimeter.Gateway/
RUN dotnet publish src/AgentPerimeter.Gateway/AgentPerimeter.Gateway.csproj \
        --configuration Release --no-restore --output /app/publish -p:UseAppHost=false


# The connector (runs beside a private server and dials out to the gateway's tunnel listener; it
# listens on nothing, so it publishes no port) and the harness (runs agent sessions whose every tool
# call goes through the gateway), built in one stage.
#   docker run --rm -e ANTHROPIC_API_KEY -v harness-sessions:/sessions agentperimeter-harness \
#     run --work-type build --task "..." --gateway http://gateway:8080 --token-file /run/secrets/session-token --journal-dir /sessions
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build-tools
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/AgentPerimeter.Protocol/AgentPerimeter.Protocol.csproj src/AgentPerimeter.Protocol/
COPY src/AgentPerimeter.Connector/AgentPerimeter.Connector.csproj src/AgentPerimeter.Connector/
COPY src/AgentPerimeter.Harness/AgentPerimeter.Harness.csproj src/AgentPerimeter.Harness/
RUN dotnet restore src/AgentPerimeter.Connector/AgentPerimeter.Connector.csproj \
 && dotnet restore src/AgentPerimeter.Harness/AgentPerimeter.Harness.csproj
COPY src/AgentPerimeter.Protocol/ src/AgentPerimeter.Protocol/
COPY src/AgentPerimeter.Connector/ src/AgentPerimeter.Connector/
COPY src/AgentPerimeter.Harness/ src/AgentPerimeter.Harness/
RUN dotnet publish src/AgentPerimeter.Connector/AgentPerimeter.Connector.csproj \
        --configuration Release --no-restore --output /app/connector -p:UseAppHost=false \
 && dotnet publish src/AgentPerimeter.Harness/AgentPerimeter.Harness.csproj \
        --configuration Release --no-restore --output /app/harness -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS connector
WORKDIR /app
COPY --from=build-tools /app/connector/ ./
ENV ASPNETCORE_HTTP_PORTS=
USER $APP_UID
ENTRYPOINT ["dotnet", "agentperimeter-connector.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS harness
WORKDIR /app
COPY --from=build-tools /app/harness/ ./
RUN mkdir -p /sessions && chown "$APP_UID:$APP_UID" /sessions
VOLUME ["/sessions"]
USER $APP_UID
ENTRYPOINT ["dotnet", "agentperimeter-harness.dll"]


FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
WORKDIR /app

# The data directory must exist and belong to the runtime user before it becomes a volume, so a
# fresh named volume is created writable for it.
RUN mkdir -p /var/lib/agentperimeter && chown "$APP_UID:$APP_UID" /var/lib/agentperimeter

COPY --from=build /app/publish/ ./
# Not the repository's demo config (its upstream is 127.0.0.1, its secret a demo value), which the
# build links beside the binary: the image's own, and nothing else.
RUN rm -rf /app/config
COPY deploy/container/config/ /app/config/

# Listeners on all interfaces inside the container; the data directory on the volume. The gateway
# binds its own two listeners, so the base image's ASPNETCORE_HTTP_PORTS=8080 is cleared (otherwise
# Kestrel logs an "Overriding address(es)" warning at start-up).
ENV PERIMETER_CONFIG_DIR=/app/config \
    Gateway__DataDirectory=/var/lib/agentperimeter \
    Gateway__Listeners__Agent=http://0.0.0.0:8080 \
    Gateway__Listeners__Admin=http://0.0.0.0:9090 \
    Gateway__Admin__TokenFile=/run/secrets/agentperimeter-admin-token \
    ASPNETCORE_HTTP_PORTS=

VOLUME ["/var/lib/agentperimeter"]
# 3128: the sandbox egress proxy, off unless Gateway__Listeners__Egress is set (e.g. http://0.0.0.0:3128).
EXPOSE 8080 9090 3128

# No HEALTHCHECK: the aspnet base image has neither curl nor wget. Probe the admin listener from the
# orchestrator instead: GET :9090/healthz (liveness) and GET :9090/readyz (503 while the audit log
# is not writable).

# The base image's non-root "app" user (UID 1654, $APP_UID). Numeric, so runAsNonRoot checks pass.
USER $APP_UID

ENTRYPOINT ["dotnet", "AgentPerimeter.Gateway.dll"]
