using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.FunctionalTests.Mcp;
using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.EndToEnd;

/// <summary>
/// A fleet as operators run it: three gateway processes sharing a signing key and Redis, behind a real
/// load balancer (nginx, no stickiness), rolled one by one under steady load — each stopped with
/// SIGTERM (lame duck, then drain) and started again. No request fails, an MCP session begun before
/// the roll goes on across replicas, and a revocation made on one replica holds on all.
/// </summary>
public sealed class RollingRestartTests
{
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private sealed record Replica(string Dir, int AgentPort, string[] Args)
    {
        public ChildProcess? Process { get; set; }
        public Uri? Admin { get; set; }
    }

    private static async Task StartAsync(Replica replica)
    {
        replica.Process = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"), replica.Args);
        await replica.Process.WaitForOutputAsync("AgentPerimeter gateway listening", TimeSpan.FromSeconds(60));
        var m = Regex.Match(replica.Process.Output, "\"AdminUri\":\"(?<admin>[^\"]+)\"");
        replica.Admin = new Uri(m.Groups["admin"].Value);
        using var probe = new HttpClient { BaseAddress = replica.Admin };
        await Eventually.UntilAsync(async () => (await probe.GetAsync("readyz")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the replica became ready", () => replica.Process.Output);
    }

    [Fact]
    public async Task ThreeReplicasBehindNginx_RolledOneByOneUnderLoad_NoRequestFails()
    {
        var nginx = new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new Xunit.Sdk.XunitException("nginx is not installed. Run the suite with tests/run.sh, which installs it (Debian package 'nginx').");
        using var redis = await RedisServer.StartAsync();
        await using var mcpServer = await TestMcpServer.StartAsync();
        await using var upstream = await TestUpstream.StartAsync();
        var routes = $$"""
            {
              "ReverseProxy": {
                "Routes": {
                  "tools-mcp": { "ClusterId": "mcp", "Match": { "Path": "/mcp" }, "Metadata": { "Perimeter.Mcp": "true" } },
                  "api": { "ClusterId": "up", "Match": { "Path": "/api/{**rest}" } }
                },
                "Clusters": {
                  "mcp": { "Destinations": { "d1": { "Address": "{{mcpServer.Url.TrimEnd('/')}}/" } } },
                  "up": { "Destinations": { "d1": { "Address": "{{upstream.Url.TrimEnd('/')}}/" } } }
                }
              }
            }
            """;
        const string policy = """
            { "Perimeter": { "WorkTypes": { "build": { "Rules": [
              { "Id": "build-mcp", "Route": "tools-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "*" ] },
              { "Id": "build-api", "Route": "api", "Methods": [ "GET" ], "Paths": [ "/api/**" ] } ] } } } }
            """;
        var root = Directory.CreateTempSubdirectory("perimeter-fleet-").FullName;
        var sharedKey = Path.Combine(root, "signing-key.pem");

        var replicas = new List<Replica>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var port = FreePort();
                var args = TestGateway.PrepareConfig(Path.Combine(root, $"r{i}"), upstream.Url, policy, routes)
                    .Where(a => a != "--Gateway:Logging:Console=false" && !a.StartsWith("--Gateway:Listeners:Agent=", StringComparison.Ordinal))
                    .Concat([
                        $"--Gateway:Listeners:Agent=http://127.0.0.1:{port}",
                        $"--Gateway:Redis:ConnectionString={redis.ConnectionString}",
                        $"--Gateway:Identity:SigningKeyPath={sharedKey}",
                        "--Gateway:ShutdownDrainDelay=00:00:01",
                    ]).ToArray();
                var replica = new Replica(Path.Combine(root, $"r{i}"), port, args);
                await StartAsync(replica); // the first creates the shared key; the others load it
                replicas.Add(replica);
            }

            // nginx round-robins over the three agent listeners, no stickiness; a replica that refuses
            // connections (stopped) is skipped, the request passed to the next.
            var lbPort = FreePort();
            File.WriteAllText(Path.Combine(root, "nginx.conf"), $$"""
                worker_processes 1;
                daemon off;
                pid {{root}}/nginx.pid;
                error_log {{root}}/nginx-error.log warn;
                events { worker_connections 256; }
                http {
                  access_log off;
                  client_body_temp_path {{root}}/nginx-body;
                  proxy_temp_path {{root}}/nginx-proxy;
                  upstream perimeter {
                    {{string.Join("\n    ", replicas.Select(r => $"server 127.0.0.1:{r.AgentPort} max_fails=0;"))}}
                  }
                  server {
                    listen 127.0.0.1:{{lbPort}};
                    location / {
                      proxy_pass http://perimeter;
                      proxy_http_version 1.1;
                      proxy_buffering off;
                      proxy_next_upstream error timeout;
                      proxy_connect_timeout 2s;
                      proxy_read_timeout 60s;
                    }
                  }
                }
                """);
            using var lb = ChildProcess.StartExecutable(nginx, ["-c", Path.Combine(root, "nginx.conf"), "-p", root], root);
            using var agent = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{lbPort}/") };
            await Eventually.UntilAsync(async () =>
            {
                try { return (await agent.GetAsync("/")).StatusCode != HttpStatusCode.BadGateway; }
                catch (HttpRequestException) { return false; }
            }, TimeSpan.FromSeconds(20), "nginx listened", () => lb.Output);

            using var admin0 = new HttpClient { BaseAddress = replicas[0].Admin };
            var loadToken = await MintAsync(admin0, "load-bot", "build");
            var victimToken = await MintAsync(admin0, "victim-bot", "build");
            // An MCP session begun through the load balancer before the roll.
            await using var mcp = await McpSetup.ConnectAsync(new Uri(agent.BaseAddress!, "mcp"), loadToken);
            await mcp.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "before" });

            var failures = new ConcurrentQueue<string>();
            int succeeded = 0;
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/status/ok");
                        request.Headers.Authorization = new("Bearer", loadToken);
                        using var response = await agent.SendAsync(request);
                        if (response.StatusCode == HttpStatusCode.OK)
                            Interlocked.Increment(ref succeeded);
                        else
                            failures.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                    catch (HttpRequestException ex)
                    {
                        failures.Enqueue(ex.Message);
                    }
                }
            })).ToArray();

            foreach (var replica in replicas)
            {
                replica.Process!.Terminate();
                Assert.Equal(0, await replica.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
                replica.Process.Dispose();
                await StartAsync(replica);
                // The session begun before the roll goes on, whichever replica takes the call.
                await mcp.CallToolAsync("search_docs", new Dictionary<string, object?> { ["text"] = "during" });
            }
            await Task.Delay(500);
            stop.Cancel();
            await Task.WhenAll(load);

            Assert.True(failures.IsEmpty, $"{failures.Count} failed requests, e.g.:\n{string.Join("\n", failures.Take(5))}");
            Assert.True(succeeded > 50, $"only {succeeded} requests ran");
            Assert.Equal(4, mcpServer.ToolCalls.Count(c => c == "tools/call:search_docs")); // one before the roll, one after each replica

            // A revocation made on one replica holds on every replica, within a second.
            var victimSession = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(victimToken).GetClaim("sid").Value;
            using var admin2 = new HttpClient { BaseAddress = replicas[2].Admin };
            Assert.True((await admin2.PostAsync($"admin/sessions/{victimSession}/revoke", null)).IsSuccessStatusCode);
            foreach (var replica in replicas)
            {
                using var direct = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{replica.AgentPort}/") };
                await Eventually.UntilAsync(async () =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "/api/status/ok");
                    request.Headers.Authorization = new("Bearer", victimToken);
                    return (await direct.SendAsync(request)).StatusCode == HttpStatusCode.Unauthorized;
                }, TimeSpan.FromSeconds(2), $"replica on port {replica.AgentPort} refused the revoked session");
            }
        }
        finally
        {
            foreach (var replica in replicas)
                replica.Process?.Dispose();
        }
    }

    private static async Task<string> MintAsync(HttpClient admin, string agent, string workType)
    {
        using var response = await admin.PostAsync("admin/sessions", new StringContent($$"""{"agent":"{{agent}}","workType":"{{workType}}"}""", System.Text.Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("token").GetString()!;
    }
}
