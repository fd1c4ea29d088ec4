using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentPerimeter.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace AgentPerimeter.Testing;

/// <summary>
/// A real gateway on real Kestrel listeners (port 0) with its own temp config and data directories.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private TestGateway(string dir, WebApplication app)
    {
        Dir = dir;
        App = app;
        var listeners = app.Services.GetRequiredService<PerimeterListeners>();
        Agent = new HttpClient { BaseAddress = listeners.AgentUri };
        Admin = new HttpClient { BaseAddress = listeners.AdminUri };
    }

    public string Dir { get; }
    public string ConfigDir => Path.Combine(Dir, "config");
    public string DataDir => Path.Combine(Dir, "data");
    public string AuditPath => Path.Combine(DataDir, "audit.jsonl");
    public WebApplication App { get; }
    public HttpClient Agent { get; }
    public HttpClient Admin { get; }
    public Uri AgentUri => Agent.BaseAddress!;
    public Uri AdminUri => Admin.BaseAddress!;

    /// <summary>The upstream this gateway owns (<see cref="StartWithUpstreamAsync"/>).</summary>
    public TestUpstream Upstream => _upstream ?? throw new InvalidOperationException("this gateway was started in front of an upstream the test owns");

    private TestUpstream? _upstream;

    /// <summary>Writes a config directory for <paramref name="upstreamUrl"/> and returns the gateway's arguments.</summary>
    public static string[] PrepareConfig(string dir, string upstreamUrl, string? policyJson = null, string? routesJson = null, params string[] extraArgs)
    {
        var configDir = Path.Combine(dir, "config");
        Directory.CreateDirectory(configDir);
        File.WriteAllText(Path.Combine(configDir, "routes.json"), routesJson ?? TestPolicies.Routes(upstreamUrl));
        File.WriteAllText(Path.Combine(configDir, "perimeter.json"), policyJson ?? TestPolicies.Default);
        return
        [
            "--config-dir", configDir,
            "--Gateway:Listeners:Agent=http://127.0.0.1:0",
            "--Gateway:Listeners:Admin=http://127.0.0.1:0",
            $"--Gateway:DataDirectory={Path.Combine(dir, "data")}",
            "--Gateway:Logging:Console=false",
            "--Gateway:Logging:File=gateway.log",
            .. extraArgs,
        ];
    }

    public static async Task<TestGateway> StartAsync(string upstreamUrl, string? policyJson = null, string? routesJson = null,
        string[]? extraArgs = null, Action<WebApplicationBuilder>? configure = null)
    {
        var dir = Directory.CreateTempSubdirectory("perimeter-test-").FullName;
        var args = PrepareConfig(dir, upstreamUrl, policyJson, routesJson, extraArgs ?? []);
        var app = PerimeterApp.Build(args, configure);
        await app.StartAsync();
        return new TestGateway(dir, app);
    }

    /// <summary>
    /// The usual functional-test setup in one call: a fresh <see cref="TestUpstream"/> and a gateway in front
    /// of it on the default routes ("api" and "other"); the gateway owns the upstream and stops it after itself.
    /// </summary>
    public static async Task<TestGateway> StartWithUpstreamAsync(string? policyJson = null, string[]? extraArgs = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var upstream = await TestUpstream.StartAsync();
        try
        {
            var gateway = await StartAsync(upstream.Url, policyJson, null, extraArgs, configure);
            gateway._upstream = upstream;
            return gateway;
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    public async Task<string> TokenAsync(string agent, string workType)
    {
        var response = await Admin.PostAsJsonAsync("admin/sessions", new { agent, workType });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Agent.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string path, string? token) => SendAsync(HttpMethod.Get, path, token);

    /// <summary>
    /// Each action's final record (its outcome, or its single record) and the perimeter's own records
    /// (tunnel, system), parsed; intents and operator records are left out (see <see cref="AllAuditRecords"/>
    /// and <see cref="OperatorRecords"/>). Durable before each answer, so no waiting.
    /// </summary>
    public List<JsonElement> AuditRecords() =>
        AllAuditRecords().Where(r => !(r.TryGetProperty("phase", out var p) && p.GetString() == "intent")
            && !(r.TryGetProperty("kind", out var k) && k.GetString() == "operator")).ToList();

    /// <summary>The operators' records (tokens minted, revocations, approvals decided, reloads).</summary>
    public List<JsonElement> OperatorRecords() =>
        AllAuditRecords().Where(r => r.TryGetProperty("kind", out var k) && k.GetString() == "operator").ToList();

    /// <summary>Every audit record, intents included, in order.</summary>
    public List<JsonElement> AllAuditRecords()
    {
        if (!File.Exists(AuditPath))
            return [];
        using var stream = new FileStream(AuditPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var records = new List<JsonElement>();
        while (reader.ReadLine() is { } line)
            records.Add(JsonDocument.Parse(line).RootElement.Clone());
        return records;
    }

    /// <summary>The final audit record of the action that produced <paramref name="response"/>.</summary>
    public JsonElement AuditFor(HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("X-Perimeter-Action-Id", out var ids), "response has no X-Perimeter-Action-Id");
        var id = Assert.Single(ids);
        return Assert.Single(AuditRecords(), r => r.TryGetProperty("action_id", out var a) && a.GetString() == id);
    }

    public Task<string> MetricsAsync() => Admin.GetStringAsync("metrics");

    /// <summary>Waits until /readyz says ready (e.g. its Redis connection is up), polling the admin API.</summary>
    public Task WaitReadyAsync() =>
        Eventually.UntilAsync(async () => (await Admin.GetAsync("readyz")).StatusCode == System.Net.HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the gateway became ready (/readyz 200)");

    public string LogText()
    {
        var path = Path.Combine(DataDir, "gateway.log");
        if (!File.Exists(path))
            return "";
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public async ValueTask DisposeAsync()
    {
        Agent.Dispose();
        Admin.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            // Every audit and log line this gateway wrote is searched for every secret value of the run.
            // (The config directory holds secret files on purpose, so only the data directory is searched.)
            TestSecrets.AssertNoneIn(DataDir);
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        }
        finally
        {
            if (_upstream is not null)
                await _upstream.DisposeAsync();
        }
    }
}
