using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentPerimeter.Gateway.FunctionalTests.Harness;
using AgentPerimeter.Testing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentPerimeter.Gateway.FunctionalTests.Approvals;

/// <summary>
/// A held call shown to the person in front of the client: a client that declared URL-mode elicitation gets
/// the approval page's link (2025-11-25: the -32042 error; 2026-07-28: an InputRequiredResult), an operator
/// signs in and decides on the page (CSRF-protected, audited), and the client's plain retry passes once.
/// </summary>
public sealed class ApprovalPageTests : IAsyncLifetime
{
    private const string AdminToken = "admin-token-for-the-approval-page-0123456789";
    private readonly string _dir = Directory.CreateTempSubdirectory("perimeter-approval-page-").FullName;
    private TestMcpServer _server = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(_dir, "admin-token"), AdminToken);
        _server = await TestMcpServer.StartAsync(serveModernClients: true);
        _gateway = await TestGateway.StartAsync(_server.Url, HarnessSetup.Policy, McpPolicies.Routes(_server.Url),
            [$"--Gateway:Admin:TokenFile={Path.Combine(_dir, "admin-token")}"]);
        _gateway.Admin.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private int Deploys => _server.ToolCalls.Count(c => c == "tools/call:deploy");

    private async Task<McpClient> ClientAsync(string protocolVersion, Func<ElicitRequestParams?, CancellationToken, ValueTask<ElicitResult>>? onUrl = null)
    {
        var token = await _gateway.TokenAsync("release-bot", "production");
        return await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(_gateway.AgentUri, "mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
        }), new McpClientOptions
        {
            ProtocolVersion = protocolVersion,
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability { Url = new UrlElicitationCapability() } },
            Handlers = new McpClientHandlers { ElicitationHandler = onUrl ?? ((_, _) => ValueTask.FromResult(new ElicitResult { Action = "cancel" })) },
        });
    }

    /// <summary>A browser-like session on the admin listener: cookies kept, redirects followed.</summary>
    private static HttpClient Browser() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true });

    private static string Field(string html, string name) => WebUtility.HtmlDecode(Regex.Match(html, $"name=\"{name}\" value=\"([^\"]*)\"").Groups[1].Value);

    private static async Task<string> SignInAsync(HttpClient browser, string pageUrl, string who)
    {
        var login = await browser.GetAsync(pageUrl);
        var loginHtml = await login.Content.ReadAsStringAsync();
        Assert.Contains("Sign in", loginHtml);
        var signedIn = await browser.PostAsync(new Uri(new Uri(pageUrl), "/approvals/login"), new FormUrlEncodedContent(
            [new("operator", who), new("token", AdminToken), new("next", Field(loginHtml, "next"))]));
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        return await signedIn.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Mcp20251125_HeldCall_ShowsTheApprovalPage_DecidedOnThePage_TheRetryPassesOnce()
    {
        await using var client = await ClientAsync("2025-11-25");
        var staging = new Dictionary<string, object?> { ["env"] = "staging" };

        var held = await Assert.ThrowsAsync<UrlElicitationRequiredException>(() => client.CallToolAsync("deploy", staging).AsTask());
        var elicitation = Assert.Single(held.Elicitations);
        var pageUrl = elicitation.Url!;
        Assert.StartsWith(new Uri(_gateway.AdminUri, "approvals/apr_").ToString(), pageUrl);
        Assert.Equal(pageUrl[(pageUrl.LastIndexOf('/') + 1)..], elicitation.ElicitationId);
        Assert.Contains("tools/call deploy", elicitation.Message);
        Assert.Equal(0, Deploys);

        // Not signed in: the page asks for a sign-in first, and a wrong token does not get one.
        using var stranger = Browser();
        Assert.Contains("Sign in", await stranger.GetStringAsync(pageUrl));
        var wrong = await stranger.PostAsync(new Uri(_gateway.AdminUri, "approvals/login"), new FormUrlEncodedContent([new("operator", "mallory"), new("token", "guess"), new("next", "")]));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        using var browser = Browser();
        var page = await SignInAsync(browser, pageUrl, "alice");
        Assert.Contains("tools/call deploy", page);
        Assert.Contains("&quot;env&quot;: &quot;staging&quot;", page);
        Assert.Contains("release-bot", page);
        Assert.Contains("production", page);
        var csrf = Field(page, "csrf");
        Assert.NotEmpty(csrf);

        // A decision that did not come from the page: no form token, or another site's origin.
        var forged = await browser.PostAsync(pageUrl, new FormUrlEncodedContent([new("decision", "approve")]));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        using (var crossSite = new HttpRequestMessage(HttpMethod.Post, pageUrl) { Content = new FormUrlEncodedContent([new("csrf", csrf), new("decision", "approve")]) })
        {
            crossSite.Headers.Add("Origin", "https://evil.example");
            Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(crossSite)).StatusCode);
        }

        var decided = await browser.PostAsync(pageUrl, new FormUrlEncodedContent([new("csrf", csrf), new("decision", "approve"), new("reason", "staging deploy of the reviewed build")]));
        Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
        Assert.Contains("Approved by alice", await decided.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, (await browser.PostAsync(pageUrl, new FormUrlEncodedContent([new("csrf", csrf), new("decision", "deny")]))).StatusCode);

        var result = await client.CallToolAsync("deploy", staging); // the plain retry: no approval id needed
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(1, Deploys);
        var again = await Assert.ThrowsAsync<UrlElicitationRequiredException>(() => client.CallToolAsync("deploy", staging).AsTask());
        Assert.NotEqual(pageUrl, Assert.Single(again.Elicitations).Url); // spent: a new hold, nothing ran
        Assert.Equal(1, Deploys);

        var record = Assert.Single(_gateway.OperatorRecords(), r => r.GetProperty("event").GetString() == "approval_approved");
        Assert.Equal("alice", record.GetProperty("operator").GetString());
        Assert.Equal("staging deploy of the reviewed build", record.GetProperty("reason").GetString());
        Assert.Equal("approval_page", record.GetProperty("via").GetString());
        Assert.DoesNotContain(AdminToken, File.ReadAllText(_gateway.AuditPath));
        Assert.DoesNotContain(AdminToken, _gateway.LogText());
    }

    [Fact]
    public async Task Mcp20260728_HeldCall_IsAnInputRequiredResult_TheClientsHandlerOpensThePage_AndTheSdkRetryPasses()
    {
        string? shown = null;
        await using var client = await ClientAsync("2026-07-28", async (request, ct) =>
        {
            // What a client does with a URL-mode elicitation: show the link; here its person approves on the page.
            Assert.Equal("url", request!.Mode);
            shown = request.Url;
            using var browser = Browser();
            var page = await SignInAsync(browser, request.Url!, "bob");
            var decided = await browser.PostAsync(request.Url, new FormUrlEncodedContent([new("csrf", Field(page, "csrf")), new("decision", "approve")]), ct);
            Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
            return new ElicitResult { Action = "accept" };
        });

        var result = await client.CallToolAsync("deploy", new Dictionary<string, object?> { ["env"] = "staging" });

        Assert.Equal("2026-07-28", client.NegotiatedProtocolVersion);
        Assert.NotNull(shown);
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(1, Deploys);
        var calls = _gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.GetProperty("method").GetString() == "tools/call").ToList();
        Assert.Equal(["approval_required", "allowed"], calls.Select(c => c.GetProperty("code").GetString()));
        Assert.Equal("bob", Assert.Single(_gateway.OperatorRecords(), r => r.GetProperty("event").GetString() == "approval_approved").GetProperty("operator").GetString());
    }

    [Fact]
    public async Task ADeniedCall_IsRefusedOnRetry_AndTheDenialIsRecorded()
    {
        await using var client = await ClientAsync("2025-11-25");
        var staging = new Dictionary<string, object?> { ["env"] = "staging" };
        var held = await Assert.ThrowsAsync<UrlElicitationRequiredException>(() => client.CallToolAsync("deploy", staging).AsTask());
        var pageUrl = Assert.Single(held.Elicitations).Url!;
        using var browser = Browser();
        var page = await SignInAsync(browser, pageUrl, "carol");

        var decided = await browser.PostAsync(pageUrl, new FormUrlEncodedContent([new("csrf", Field(page, "csrf")), new("decision", "deny"), new("reason", "not during the freeze")]));

        Assert.Contains("Denied by carol", await decided.Content.ReadAsStringAsync());
        var refused = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("deploy", staging).AsTask());
        Assert.Contains("approval_denied", refused.Message);
        Assert.Equal(0, Deploys);
        var record = Assert.Single(_gateway.OperatorRecords(), r => r.GetProperty("event").GetString() == "approval_denied");
        Assert.Equal("not during the freeze", record.GetProperty("reason").GetString());
    }

    /// <summary>In a real browser: headless Chromium (Debian's) opens the link the TypeScript SDK client was given, signs in, clicks Approve.</summary>
    [Fact]
    public async Task InARealBrowser_TheLinkTheClientGotIsOpened_ApprovedByClicking_TheRetryRunsOnce_AndTheSameCallIsHeldAnew()
    {
        var dir = Path.Combine(TestPaths.RepoRoot(), "tests", "AgentPerimeter.Gateway.FunctionalTests", "Mcp", "node");
        Assert.True(Directory.Exists(Path.Combine(dir, "node_modules", "puppeteer-core")), "puppeteer-core is not installed: run tests/run.sh (it runs 'npm ci' in " + dir + ")");
        Assert.True(File.Exists("/usr/bin/chromium"), "Chromium is not installed: run tests/run.sh (it installs Debian's chromium)");
        var token = await _gateway.TokenAsync("release-bot", "production");

        using var node = ChildProcess.StartExecutable("node", [Path.Combine(dir, "approve-in-browser.mjs"), new Uri(_gateway.AgentUri, "mcp").ToString(), token, AdminToken, "erin"], dir);
        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(90));

        Assert.True(exit == 0, node.Output);
        var result = JsonDocument.Parse(node.Output.Split('\n').Last(l => l.StartsWith('{'))).RootElement;
        var link = result.GetProperty("first").GetProperty("url").GetString()!;
        Assert.StartsWith(new Uri(_gateway.AdminUri, "approvals/apr_").ToString(), link);
        Assert.Contains("Sign in", result.GetProperty("loginTitle").GetString());
        var shown = result.GetProperty("shown");
        Assert.Equal("erin", shown.GetProperty("who").GetString());
        Assert.Equal("tools/call deploy", shown.GetProperty("what").GetString());
        Assert.Equal("release-bot", shown.GetProperty("agent").GetString());
        Assert.Equal("production", shown.GetProperty("workType").GetString());
        Assert.Contains("\"env\": \"staging\"", shown.GetProperty("arguments").GetString());
        Assert.Equal("pending", shown.GetProperty("status").GetString());
        Assert.Contains("Approved by erin", result.GetProperty("result").GetString());
        Assert.Contains("deploy", result.GetProperty("retry").GetString());
        var replay = result.GetProperty("replay");
        Assert.True(replay.TryGetProperty("url", out var again) && again.GetString() != link, replay.ToString());
        Assert.Equal(1, Deploys);
        var record = Assert.Single(_gateway.OperatorRecords(), r => r.GetProperty("event").GetString() == "approval_approved");
        Assert.Equal("erin", record.GetProperty("operator").GetString());
        Assert.Equal("reviewed in the browser", record.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task ThePage_ForbidsFramingAndScripts_AndEncodesWhatTheAgentSent()
    {
        await using var client = await ClientAsync("2025-11-25");
        var held = await Assert.ThrowsAsync<UrlElicitationRequiredException>(() => client.CallToolAsync("deploy",
            new Dictionary<string, object?> { ["env"] = "staging", ["notes"] = "<script>alert(1)</script>" }).AsTask());
        var pageUrl = Assert.Single(held.Elicitations).Url!;
        using var browser = Browser();
        await SignInAsync(browser, pageUrl, "dave");

        using var response = await browser.GetAsync(pageUrl);
        var html = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("<script>alert(1)</script>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        // The session cookie: script cannot read it, other sites cannot send it, it is for the pages only.
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var signIn = await noRedirect.PostAsync(new Uri(_gateway.AdminUri, "approvals/login"),
            new FormUrlEncodedContent([new("operator", "dave"), new("token", AdminToken), new("next", new Uri(pageUrl).AbsolutePath)]));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(new Uri(pageUrl).AbsolutePath, signIn.Headers.Location!.ToString());
        var setCookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/approvals", setCookie, StringComparison.OrdinalIgnoreCase);
        // An open redirect is not: "next" must be an approval page of this listener.
        var elsewhere = await noRedirect.PostAsync(new Uri(_gateway.AdminUri, "approvals/login"),
            new FormUrlEncodedContent([new("operator", "dave"), new("token", AdminToken), new("next", "//evil.example/approvals/x")]));
        Assert.Equal("/approvals/login", elsewhere.Headers.Location!.ToString());
    }
}
