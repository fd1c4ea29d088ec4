using System.Net;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Testing;
using Microsoft.AspNetCore.Http;

namespace AgentPerimeter.Gateway.FunctionalTests.Mcp;

/// <summary>
/// A hostile MCP server behind the gateway: whatever framing, media type or shape it answers in, a
/// restricted work type never receives an unfiltered list, a changed tool, or a task it cannot govern.
/// Each answer is either parsed the way a client parses it and filtered, or refused
/// (<c>upstream_response_not_inspectable</c>) — never relayed as it came.
/// </summary>
public sealed class McpHostileServerTests
{
    private const string Routes = """
        {
          "ReverseProxy": {
            "Routes": {
              "hostile-mcp": { "ClusterId": "h", "Match": { "Path": "/mcp" }, "Metadata": { "Perimeter.Mcp": "true" } }
            },
            "Clusters": { "h": { "Destinations": { "d1": { "Address": "UPSTREAM/" } } } }
          }
        }
        """;

    private const string Policy = """
        {
          "Perimeter": {
            "WorkTypes": {
              "exploration": { "Rules": [ { "Id": "explore", "Route": "hostile-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "search_*" ], "Resources": [ "docs://public/**" ] } ] },
              "build": { "Rules": [ { "Id": "build", "Route": "hostile-mcp", "Methods": [ "POST", "GET", "DELETE" ], "Paths": [ "/mcp" ], "Tools": [ "*" ], "ParamHeaders": [ "Region" ] } ] },
              "production": { "Rules": [ { "Id": "prod-stream-only", "Route": "hostile-mcp", "Methods": [ "GET" ], "Paths": [ "/mcp" ], "Tools": [ "*" ] } ] }
            }
          }
        }
        """;

    private const string ListRequest = """{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}""";

    private sealed class Setup : IAsyncDisposable
    {
        public required HostileMcpServer Server { get; init; }
        public required TestGateway Gateway { get; init; }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    private static async Task<Setup> StartAsync()
    {
        var server = await HostileMcpServer.StartAsync();
        var gateway = await TestGateway.StartAsync(server.Url, Policy, Routes.Replace("UPSTREAM", server.Url.TrimEnd('/'), StringComparison.Ordinal));
        return new Setup { Server = server, Gateway = gateway };
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(Setup setup, string token, string body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
            request.Headers.TryAddWithoutValidation(name, value);
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        using var response = await setup.Gateway.Agent.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static readonly string Tools = HostileMcpServer.ToolsResult("7", "search_docs", "deploy", "drop_database");

    /// <summary>Answers a client accepts and the gateway must parse the same way, then filter.</summary>
    public static TheoryData<string, string, string> Parsed => new()
    {
        { "sse, LF", "text/event-stream", $"event: message\ndata: {Tools}\n\n" },
        { "sse, CRLF", "text/event-stream", $"event: message\r\ndata: {Tools}\r\n\r\n" },
        { "sse, bare CR", "text/event-stream", $"event: message\rdata: {Tools}\r\r" },
        { "sse, byte-order mark", "text/event-stream", $"\uFEFFdata: {Tools}\n\n" },
        { "sse, data split over lines", "text/event-stream", $"data: {Tools[..Tools.IndexOf("{\"tools\"", StringComparison.Ordinal)]}\ndata: {Tools[Tools.IndexOf("{\"tools\"", StringComparison.Ordinal)..]}\n\n" },
        { "sse, no space after colon, comments", "text/event-stream", $": hello\ndata:{Tools}\n: bye\n\n" },
        { "sse, unterminated last event", "text/event-stream", $"data: {Tools}" },
        { "sse, an id that is not the request's", "text/event-stream", $"data: {HostileMcpServer.ToolsResult("\"other\"", "search_docs", "deploy")}\n\n" },
        { "sse, a priming event then the list", "text/event-stream", $"id: 1\ndata:\n\nid: 2\ndata: {Tools}\n\n" },
        { "json", "application/json", Tools },
        { "json with charset", "application/json; charset=utf-8", Tools },
        { "json with byte-order mark", "application/json", "\uFEFF" + Tools },
        { "json array", "application/json", $"[{Tools}]" },
        { "json, key in another case", "application/json", Tools.Replace("\"tools\"", "\"Tools\"", StringComparison.Ordinal) },
        { "json, key spelled with escapes", "application/json", Tools.Replace("\"tools\"", "\"tool\\u0073\"", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(Parsed))]
    public async Task ListInAnyFramingAClientAccepts_IsFiltered(string framing, string contentType, string answer)
    {
        await using var setup = await StartAsync();
        setup.Server.Answer = (_, _) => (contentType, Utf8(answer));
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (status, body) = await PostAsync(setup, token, ListRequest);

        Assert.True(status == HttpStatusCode.OK, $"{framing}: {status} {body}");
        Assert.Contains("search_docs", body);
        Assert.DoesNotContain("deploy", body);
        Assert.DoesNotContain("drop_database", body);
    }

    /// <summary>Answers the gateway cannot read with certainty: refused, never relayed.</summary>
    public static TheoryData<string, string, string> Refused => new()
    {
        { "json-rpc media type", "application/json-rpc", Tools },
        { "text/plain", "text/plain", Tools },
        { "vendor +json", "application/vnd.hostile+json", Tools },
        { "no media type", "", Tools },
        { "result and method at once", "application/json", Tools.Replace("\"id\":7,", "\"id\":7,\"method\":\"notifications/message\",", StringComparison.Ordinal) },
        { "a key twice", "application/json", Tools.Replace("{\"tools\":", "{\"tools\":[],\"tools\":", StringComparison.Ordinal) },
        { "a key in two spellings", "application/json", Tools.Replace("{\"tools\":", "{\"Tools\":[],\"tools\":", StringComparison.Ordinal) },
        { "not json", "application/json", "tools: search_docs, deploy" },
        { "result not an object", "application/json", """{"jsonrpc":"2.0","id":7,"result":[{"name":"deploy"}]}""" },
        { "tools not a list", "application/json", """{"jsonrpc":"2.0","id":7,"result":{"tools":{"name":"deploy"}}}""" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task AnswerThatCannotBeInspected_IsRefused(string framing, string contentType, string answer)
    {
        await using var setup = await StartAsync();
        setup.Server.Answer = (_, _) => (contentType.Length == 0 ? null : contentType, Utf8(answer));
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (status, body) = await PostAsync(setup, token, ListRequest);

        Assert.DoesNotContain("deploy", body);
        using var doc = JsonDocument.Parse(body);
        var error = doc.RootElement.GetProperty("error");
        Assert.True(error.GetProperty("data").GetProperty("error").GetString() == "upstream_response_not_inspectable", $"{framing}: {status} {body}");
        Assert.Equal(7, doc.RootElement.GetProperty("id").GetInt32());
        var record = setup.Gateway.AuditRecords().Last(r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("method", out var mm) && mm.GetString() == "tools/list");
        Assert.Contains("upstream_response_not_inspectable", record.GetRawText());
    }

    [Fact]
    public async Task SseEventThatCannotBeInspected_IsWithheld_AndTheRestOfTheStreamFlows()
    {
        await using var setup = await StartAsync();
        var ambiguous = Tools.Replace("\"id\":7,", "\"id\":7,\"method\":\"notifications/message\",", StringComparison.Ordinal);
        setup.Server.Answer = (_, _) => ("text/event-stream", Utf8($"data: {ambiguous}\n\ndata: not json at all deploy\n\ndata: {Tools}\n\n"));
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (status, body) = await PostAsync(setup, token, ListRequest);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("search_docs", body);
        Assert.DoesNotContain("deploy", body);
        // Recorded as observed (not awaited by the stream): wait for both records.
        List<JsonElement> withheld = [];
        for (int i = 0; i < 50 && withheld.Count < 2; i++, await Task.Delay(100))
            withheld = setup.Gateway.AllAuditRecords().Where(r => r.TryGetProperty("event", out var e) && e.GetString() == "server_message_withheld").ToList();
        Assert.Equal(2, withheld.Count);
        Assert.All(withheld, r => Assert.DoesNotContain("deploy", r.GetRawText()));
    }

    [Fact]
    public async Task GetStream_ListResultAndReplayAfterLastEventId_AreFiltered_AndHeadersComeBeforeAnyEvent()
    {
        await using var setup = await StartAsync();
        var release = new TaskCompletionSource();
        string? lastEventId = null;
        setup.Server.GetStream = async ctx =>
        {
            lastEventId = ctx.Request.Headers["Last-Event-ID"];
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.Body.FlushAsync();
            await release.Task; // nothing, not even a keep-alive, until the test says so
            await ctx.Response.WriteAsync($"id: 42\r\ndata: {Tools}\r\n\r\n");
        };
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/mcp");
        request.Headers.Authorization = new("Bearer", token);
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Last-Event-ID", "41");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await setup.Gateway.Agent.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);

        // The headers arrived while the server had sent no event at all.
        Assert.False(release.Task.IsCompleted);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        release.SetResult();
        var body = await response.Content.ReadAsStringAsync(cts.Token);

        Assert.Equal("41", lastEventId);
        Assert.Contains("id: 42\n", body);
        Assert.Contains("search_docs", body);
        Assert.DoesNotContain("deploy", body);
    }

    [Fact]
    public async Task ChangedOutputSchemaOrAnnotations_WithholdTheTool_AndTheAdminApiShowsTheDiff()
    {
        await using var setup = await StartAsync();
        const string original = """{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"search_docs","description":"Search","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}}]}}""";
        const string changed = """{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"search_docs","description":"Search","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":false,"destructiveHint":true}}]}}""";
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");
        setup.Server.Answer = (_, _) => ("application/json", Utf8(original));
        Assert.Contains("search_docs", (await PostAsync(setup, token, ListRequest)).Body);

        setup.Server.Answer = (method, id) => method == "tools/list" ? ("application/json", Utf8(changed)) : ("application/json", Utf8("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"content\":[]}}"));
        var (_, listed) = await PostAsync(setup, token, ListRequest);
        var (_, called) = await PostAsync(setup, token, """{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"search_docs","arguments":{}}}""");

        Assert.DoesNotContain("search_docs", listed);
        Assert.Contains("tool_definition_changed", called);
        Assert.DoesNotContain(setup.Server.Received, r => r.RpcMethod == "tools/call");
        using var pins = JsonDocument.Parse(await setup.Gateway.Admin.GetStringAsync("admin/tools"));
        var pin = pins.RootElement.EnumerateArray().Single(p => p.GetProperty("tool").GetString() == "search_docs");
        Assert.Equal("withheld", pin.GetProperty("status").GetString());
        var changes = pin.GetProperty("changes").EnumerateArray().ToDictionary(c => c.GetProperty("path").GetString()!, c => (c.GetProperty("approved").ToString(), c.GetProperty("latest").ToString()));
        Assert.Equal(("true", "false"), changes["/annotations/readOnlyHint"]);
        Assert.Equal(("", "true"), changes["/annotations/destructiveHint"]);
        Assert.Equal(2, changes.Count);

        // An approval of a definition other than the one reviewed approves nothing.
        var stale = await setup.Gateway.Admin.PostAsync("admin/tools/hostile-mcp/search_docs/approve?hash=0000", null);
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        var latest = pin.GetProperty("latest_hash").GetString()!;
        var approved = await setup.Gateway.Admin.PostAsync($"admin/tools/hostile-mcp/search_docs/approve?hash={latest[..12]}", null);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Contains("search_docs", (await PostAsync(setup, token, ListRequest)).Body);
    }

    private const string InitializeResult = """
        ,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{},"tasks":{"requests":{"tools":{"call":{}}}}},"serverInfo":{"name":"h","version":"1"}}}
        """;

    [Fact]
    public async Task Tasks_AreNotOffered_AndATaskAugmentedCallNeverReachesTheServer()
    {
        await using var setup = await StartAsync();
        setup.Server.Answer = (method, id) => method switch
        {
            "initialize" => ("application/json", Utf8("{\"jsonrpc\":\"2.0\",\"id\":" + id + InitializeResult)),
            _ => ("application/json", Utf8("""{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"search_docs","inputSchema":{"type":"object"},"execution":{"taskSupport":"required"}}]}}""")),
        };
        var token = await setup.Gateway.TokenAsync("agent-1", "build");

        var (_, init) = await PostAsync(setup, token, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""");
        var (_, list) = await PostAsync(setup, token, ListRequest);
        var (_, call) = await PostAsync(setup, token, """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"search_docs","arguments":{},"task":{"ttl":60000}}}""");

        Assert.Contains("\"tools\":{}", init);
        Assert.DoesNotContain("tasks", init);
        Assert.Contains("search_docs", list);
        Assert.DoesNotContain("taskSupport", list);
        using var doc = JsonDocument.Parse(call);
        Assert.Equal("task_not_supported", doc.RootElement.GetProperty("error").GetProperty("data").GetProperty("error").GetString());
        Assert.DoesNotContain(setup.Server.Received, r => r.RpcMethod == "tools/call");
    }

    [Fact]
    public async Task Mcp20260728_ServerDiscover_DoesNotOfferTasks_AsACapabilityOrAnExtension()
    {
        await using var setup = await StartAsync();
        setup.Server.Answer = (method, id) => ("application/json", Utf8("{\"jsonrpc\":\"2.0\",\"id\":" + id
            + ""","result":{"supportedVersions":["2026-07-28"],"capabilities":{"tools":{},"tasks":{"requests":{}},"extensions":{"io.modelcontextprotocol/tasks":{},"io.example/other":{}}}}}"""));
        var token = await setup.Gateway.TokenAsync("agent-1", "build");

        var (status, discover) = await PostAsync(setup, token, """{"jsonrpc":"2.0","id":3,"method":"server/discover","params":{}}""",
            ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "server/discover"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("\"tools\":{}", discover);
        Assert.Contains("io.example/other", discover);
        Assert.DoesNotContain("tasks", discover);
    }

    [Fact]
    public async Task RouteRefusal_OnAnMcpRoute_IsAJsonRpcErrorWithTheRequestsId()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "production"); // may only GET the stream on this route

        var (status, body) = await PostAsync(setup, token, """{"jsonrpc":"2.0","id":"abc","method":"tools/list"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("abc", doc.RootElement.GetProperty("id").GetString());
        Assert.Equal(-32001, doc.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.NotEqual("", doc.RootElement.GetProperty("error").GetProperty("data").GetProperty("error").GetString());
        Assert.Empty(setup.Server.Received);
        Assert.Equal("deny", setup.Gateway.AuditRecords().Last().GetProperty("decision").GetString());

        // Not a JSON-RPC request (a notification, or not JSON): the plain 403, still never forwarded.
        var (notificationStatus, _) = await PostAsync(setup, token, """{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        var (garbageStatus, _) = await PostAsync(setup, token, "{not json");
        Assert.Equal(HttpStatusCode.Forbidden, notificationStatus);
        Assert.Equal(HttpStatusCode.Forbidden, garbageStatus);
        Assert.Empty(setup.Server.Received);
    }

    private const string EchoCall = """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"search_docs","arguments":{}}}""";

    public static TheoryData<string, (string, string)[]> MismatchedHeaders => new()
    {
        { "a body 'search_docs' under Mcp-Name 'secret_tool'", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "secret_tool")] },
        { "Mcp-Method missing", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Name", "search_docs")] },
        { "Mcp-Name missing", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call")] },
        { "Mcp-Method of another method", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/list"), ("Mcp-Name", "search_docs")] },
        { "Mcp-Name given twice", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "search_docs"), ("Mcp-Name", "deploy")] },
        { "two protocol versions, one old, headers absent", [("MCP-Protocol-Version", "2025-11-25"), ("MCP-Protocol-Version", "2026-07-28")] },
        { "two protocol versions in one comma-joined line", [("MCP-Protocol-Version", "2025-11-25, 2026-07-28")] },
        { "an Mcp-Name in Base64 that decodes to another tool", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?ZGVwbG95?=")] },
        { "an Mcp-Name sentinel that is not Base64", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?c2VhcmNoX2RvY3M?=")] },
        { "an Mcp-Name sentinel of bytes that are not UTF-8", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?wK4=?=")] },
        { "the sentinel's markers in upper case (refused, not guessed)", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?BASE64?c2VhcmNoX2RvY3M=?=")] },
        { "an Mcp-Name in Base64 with whitespace inside", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?c2VhcmNo X2RvY3M=?=")] },
        { "an Mcp-Name in Base64 with non-zero padding bits", [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?c2VhcmNoX2RvY3N=?=")] },
    };

    [Theory]
    [MemberData(nameof(MismatchedHeaders))]
    public async Task Mcp20260728_MirroredHeadersThatDisagreeWithTheBody_AreRefusedBeforeForwarding(string what, (string, string)[] headers)
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "build");

        var (status, body) = await PostAsync(setup, token, EchoCall, headers);

        Assert.True(status == HttpStatusCode.BadRequest, $"{what}: {status} {body}");
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(-32020, doc.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("header_mismatch", doc.RootElement.GetProperty("error").GetProperty("data").GetProperty("error").GetString());
        Assert.Equal(5, doc.RootElement.GetProperty("id").GetInt32());
        Assert.Empty(setup.Server.Received);
    }

    [Fact]
    public async Task Mcp20260728_MatchingHeaders_AndOlderVersionsWithoutThem_PassAsBefore_AndServerDiscoverNeedsOnlyARouteRule()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (modern, _) = await PostAsync(setup, token, EchoCall,
            ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "search_docs"));
        var (older, _) = await PostAsync(setup, token, EchoCall, ("MCP-Protocol-Version", "2025-11-25"));
        var (discover, discoverBody) = await PostAsync(setup, token, """{"jsonrpc":"2.0","id":9,"method":"server/discover","params":{}}""",
            ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "server/discover"));

        Assert.Equal(HttpStatusCode.OK, modern);
        Assert.Equal(HttpStatusCode.OK, older);
        Assert.True(discover == HttpStatusCode.OK, discoverBody);
        Assert.DoesNotContain("method_not_allowed", discoverBody);
        Assert.Equal(["tools/call", "tools/call", "server/discover"], setup.Server.Received.Select(r => r.RpcMethod));
    }

    private const string StatelessCall = """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"search_docs","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}""";

    // MCP 2026-07-28 stateless requests: the version rides in each request's _meta. It is the action's
    // version, it brings the mirrored-header rule with it, and it must agree with the header.
    [Theory]
    [InlineData("no headers at all", StatelessCall, new string[0])]
    [InlineData("a header of another version", StatelessCall, new[] { "MCP-Protocol-Version", "2025-11-25" })]
    [InlineData("the _meta key spelled with an escape", """{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"search_docs","arguments":{},"_meta":{"io.modelcontextprotocol/protocol\u0056ersion":"2026-07-28"}}}""", new string[0])]
    public async Task Mcp20260728_StatelessMetaVersion_BringsTheHeaderRule_AndMustAgreeWithTheHeader(string what, string body, string[] header)
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (status, answer) = await PostAsync(setup, token, body, header.Length == 0 ? [] : [(header[0], header[1])]);

        Assert.True(status == HttpStatusCode.BadRequest, $"{what}: {status} {answer}");
        Assert.Contains("header_mismatch", answer);
        Assert.Empty(setup.Server.Received);
    }

    [Fact]
    public async Task Mcp20260728_StatelessMetaVersion_WithItsHeaders_PassesAndIsTheRecordedVersion()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (status, answer) = await PostAsync(setup, token, StatelessCall, ("Mcp-Method", "tools/call"), ("Mcp-Name", "search_docs"));

        Assert.True(status == HttpStatusCode.OK, answer);
        var record = Assert.Single(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("method", out var x) && x.GetString() == "tools/call");
        Assert.Equal("2026-07-28", record.GetProperty("mcp").GetProperty("protocol_version").GetString());
    }

    private static string Listen(string resources) =>
        """{"jsonrpc":"2.0","id":21,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true,"resourceSubscriptions":""" + resources + "}}}";

    private static readonly (string, string)[] ListenHeaders = [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "subscriptions/listen")];

    // MCP 2026-07-28 subscriptions/listen: the stream needs only a rule on the route; each resource it watches
    // is decided like resources/subscribe; on the stream, an update of a resource the work type may not read
    // is withheld (recorded), whatever the server sends; everything else is relayed.
    [Fact]
    public async Task Mcp20260728_SubscriptionsListen_IsDecidedPerResource_AndItsStreamIsFiltered()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");
        static string Event(string json) => $"event: message\ndata: {json}\n\n";
        setup.Server.Answer = (method, id) => ("text/event-stream", Encoding.UTF8.GetBytes(
            Event("""{"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":{"notifications":{"toolsListChanged":true,"resourceSubscriptions":["docs://public/a"]}}}""")
            + Event("""{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"docs://public/a"}}""")
            + Event("""{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"docs://private/salaries"}}""")
            + Event("""{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}""")
            + Event("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":" + id + "}}}")));

        var (status, stream) = await PostAsync(setup, token, Listen("""["docs://public/a"]"""), ListenHeaders);
        var (deniedStatus, denied) = await PostAsync(setup, token, Listen("""["docs://public/a","docs://private/salaries"]"""), ListenHeaders);
        var (badStatus, bad) = await PostAsync(setup, token, Listen("\"docs://public/a\""), ListenHeaders);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("notifications/subscriptions/acknowledged", stream);
        Assert.Contains("docs://public/a\"}", stream);
        Assert.Contains("notifications/tools/list_changed", stream);
        Assert.Contains("subscriptionId", stream);
        Assert.DoesNotContain("docs://private/salaries", stream);
        Assert.Contains(setup.Gateway.AllAuditRecords(), r => r.TryGetProperty("event", out var e) && e.GetString() == "server_message_withheld"
            && r.GetProperty("reason").GetString()!.Contains("docs://private/salaries"));
        Assert.Equal(HttpStatusCode.OK, deniedStatus);
        Assert.Contains("policy_denied", denied);
        Assert.Contains("docs://private/salaries", denied);
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Contains("-32602", bad);
        Assert.Single(setup.Server.Received); // only the allowed listen reached the server
        var listen = Assert.Single(setup.Gateway.AuditRecords(), r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("method", out var x)
            && x.GetString() == "subscriptions/listen" && r.GetProperty("decision").GetString() == "allow");
        Assert.Equal("docs://public/a", listen.GetProperty("mcp").GetProperty("target").GetString());
    }

    // MCP 2026-07-28 multi round-trip requests: the server's InputRequiredResult reaches the client as sent
    // and is recorded; the client's retry (with inputResponses) is a new action, decided again like the first.
    [Fact]
    public async Task Mcp20260728_InputRequiredResult_IsRelayed_AndTheRetryIsDecidedAgain()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");
        const string inputRequired = """{"resultType":"input_required","inputRequests":{"confirm":{"method":"elicitation/create","params":{"mode":"form","message":"Proceed?","requestedSchema":{"type":"object","properties":{"ok":{"type":"boolean"}}}}}},"requestState":"opaque-1"}""";
        setup.Server.Answer = (method, id) => ("application/json", Encoding.UTF8.GetBytes(setup.Server.Received.Count == 1
            ? "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + inputRequired + "}"
            : "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"done\"}]}}"));
        (string, string)[] headers = [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "search_docs")];
        const string retry = """{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"search_docs","arguments":{},"inputResponses":{"confirm":{"action":"accept","content":{"ok":true}}},"requestState":"opaque-1"}}""";
        const string deniedRetry = """{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"deploy","arguments":{},"inputResponses":{"confirm":{"action":"accept","content":{"ok":true}}},"requestState":"opaque-1"}}""";

        var (firstStatus, first) = await PostAsync(setup, token, EchoCall, headers);
        var (secondStatus, second) = await PostAsync(setup, token, retry, headers);
        var (_, denied) = await PostAsync(setup, token, deniedRetry, ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "deploy"));

        Assert.Equal(HttpStatusCode.OK, firstStatus);
        Assert.Contains("\"input_required\"", first);
        Assert.Contains("Proceed?", first);
        Assert.Contains("opaque-1", first);
        Assert.Equal(HttpStatusCode.OK, secondStatus);
        Assert.Contains("done", second);
        Assert.Contains("policy_denied", denied);
        Assert.Equal(2, setup.Server.Received.Count);
        var calls = setup.Gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.GetProperty("method").GetString() == "tools/call").ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal("input_required: elicitation/create", calls[0].GetProperty("mcp").GetProperty("result_type").GetString());
        Assert.False(calls[1].GetProperty("mcp").TryGetProperty("result_type", out _));
        Assert.Equal(["allow", "allow", "deny"], calls.Select(c => c.GetProperty("decision").GetString()));
    }

    // A case-insensitive reader (the C# SDK's) reads "Notifications" as "notifications": so does the perimeter,
    // so a listen cannot slip a watched resource past the per-resource decision by another spelling of the key.
    [Fact]
    public async Task Mcp20260728_SubscriptionsListen_WithTheFilterKeyInAnotherCase_IsStillDecidedPerResource()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (status, body) = await PostAsync(setup, token,
            """{"jsonrpc":"2.0","id":22,"method":"subscriptions/listen","params":{"Notifications":{"ResourceSubscriptions":["docs://private/salaries"]}}}""", ListenHeaders);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("policy_denied", body);
        Assert.Contains("docs://private/salaries", body);
        Assert.Empty(setup.Server.Received);
    }

    // SEP-2243 Mcp-Param-{Name}: a tool's x-mcp-header arguments mirrored for intermediaries. Forwarded only when
    // the deciding rule lists the name in ParamHeaders, and only when equal (decoded) to the argument the tool's
    // approved definition maps it to.
    [Fact]
    public async Task Mcp20260728_ParamHeaders_AreAllowedPerRule_AndMustMatchTheArgumentTheToolMapsThemTo()
    {
        await using var setup = await StartAsync();
        var build = await setup.Gateway.TokenAsync("agent-1", "build");
        var explorer = await setup.Gateway.TokenAsync("agent-2", "exploration");
        const string tools = """{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"search_docs","inputSchema":{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"Region"},"count":{"type":"integer","x-mcp-header":"Count"}}}}]}}""";
        setup.Server.Answer = (method, id) => ("application/json", Encoding.UTF8.GetBytes(method == "tools/list"
            ? tools : "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":{\"content\":[]}}"));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(setup, build, ListRequest)).Status);
        const string call = """{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"search_docs","arguments":{"region":"eu-west","count":3}}}""";
        (string, string)[] Headers(params (string, string)[] more) => [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "search_docs"), .. more];

        var (plain, plainBody) = await PostAsync(setup, build, call, Headers(("Mcp-Param-Region", "eu-west")));
        var (encoded, encodedBody) = await PostAsync(setup, build, call, Headers(("mcp-param-region", "=?base64?ZXUtd2VzdA==?=")));
        var (_, unlisted) = await PostAsync(setup, build, call, Headers(("Mcp-Param-Count", "3")));
        var (otherRule, otherRuleBody) = await PostAsync(setup, explorer, call, Headers(("Mcp-Param-Region", "eu-west")));
        var (mismatch, mismatchBody) = await PostAsync(setup, build, call, Headers(("Mcp-Param-Region", "us-east")));
        var (undeclared, undeclaredBody) = await PostAsync(setup, build,
            """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"search_never_listed","arguments":{"region":"eu-west"}}}""",
            [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "search_never_listed"), ("Mcp-Param-Region", "eu-west")]);
        var (onList, _) = await PostAsync(setup, build, ListRequest, ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/list"), ("Mcp-Param-Region", "eu-west"));

        Assert.True(plain == HttpStatusCode.OK && !plainBody.Contains("error"), plainBody);
        Assert.True(encoded == HttpStatusCode.OK && !encodedBody.Contains("error"), encodedBody);
        Assert.Contains("param_header_not_allowed", unlisted);
        Assert.Contains("Mcp-Param-Count", unlisted);
        Assert.True(otherRule == HttpStatusCode.OK && otherRuleBody.Contains("param_header_not_allowed"), otherRuleBody);
        Assert.True(mismatch == HttpStatusCode.BadRequest && mismatchBody.Contains("-32020"), mismatchBody);
        Assert.True(undeclared == HttpStatusCode.BadRequest && undeclaredBody.Contains("declares no x-mcp-header"), undeclaredBody);
        Assert.Equal(HttpStatusCode.BadRequest, onList);
        Assert.Equal(["tools/list", "tools/call", "tools/call"], setup.Server.Received.Select(r => r.RpcMethod));
    }

    // OpenTelemetry: each MCP message is a span in the caller's own trace, whether the caller's context came in
    // the traceparent header or (MCP 2026-07-28) in params._meta.traceparent, carrying the perimeter's decision.
    [Fact]
    public async Task AnMcpMessage_IsASpanInTheCallersTrace_FromMetaOrHeader_WithTheDecision()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == AgentPerimeter.Gateway.Actions.PerimeterTracing.SourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");
        const string metaTrace = "4bf92f3577b34da6a3ce929d0e0e4736", metaParent = "00f067aa0ba902b7";
        const string headerTrace = "0af7651916cd43dd8448eb211c80319c", headerParent = "b7ad6b7169203331";

        await PostAsync(setup, token, "{\"jsonrpc\":\"2.0\",\"id\":31,\"method\":\"tools/call\",\"params\":{\"name\":\"search_docs\",\"arguments\":{},\"_meta\":{\"traceparent\":\"00-" + metaTrace + "-" + metaParent + "-01\"}}}");
        await PostAsync(setup, token, """{"jsonrpc":"2.0","id":32,"method":"tools/call","params":{"name":"deploy","arguments":{}}}""", ("traceparent", $"00-{headerTrace}-{headerParent}-01"));

        System.Diagnostics.Activity? Span(string trace) => spans.FirstOrDefault(a => a.TraceId.ToHexString() == trace);
        await Eventually.UntilAsync(() => Span(metaTrace) is not null && Span(headerTrace) is not null, TimeSpan.FromSeconds(10), "both spans ended");
        var allowed = Span(metaTrace)!;
        Assert.Equal(metaParent, allowed.ParentSpanId.ToHexString());
        Assert.Equal("tools/call search_docs", allowed.DisplayName);
        Assert.Equal("tools/call", allowed.GetTagItem("mcp.method.name"));
        Assert.Equal("search_docs", allowed.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("allow", allowed.GetTagItem("agentperimeter.decision"));
        Assert.Equal("exploration", allowed.GetTagItem("agentperimeter.work_type"));
        var denied = Span(headerTrace)!;
        Assert.Equal(headerParent, denied.ParentSpanId.ToHexString());
        Assert.Equal("deny", denied.GetTagItem("agentperimeter.decision"));
        Assert.Equal("policy_denied", denied.GetTagItem("agentperimeter.code"));
        Assert.Equal(System.Diagnostics.ActivityStatusCode.Error, denied.Status);
    }

    // The headers intermediaries route on reach the server only as checked: not on a 2025 request (the gateway
    // does not compare them there), a notification, or a GET; Mcp-Param-* only on a checked tools/call.
    [Fact]
    public async Task McpRoutingHeaders_TheGatewayDidNotCheck_NeverReachTheServer()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "build");
        setup.Server.GetStream = ctx => ctx.Response.WriteAsync("");

        await PostAsync(setup, token, EchoCall, ("MCP-Protocol-Version", "2025-11-25"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "secret_tool"));
        await PostAsync(setup, token, """{"jsonrpc":"2.0","method":"notifications/initialized"}""", ("Mcp-Param-Tenant", "admin"), ("Mcp-Name", "x"));
        using (var get = new HttpRequestMessage(HttpMethod.Get, "/mcp"))
        {
            get.Headers.Authorization = new("Bearer", token);
            get.Headers.Accept.ParseAdd("text/event-stream");
            get.Headers.TryAddWithoutValidation("Mcp-Name", "secret_tool");
            get.Headers.TryAddWithoutValidation("Mcp-Param-Tenant", "admin");
            using var _ = await setup.Gateway.Agent.SendAsync(get);
        }

        var received = setup.Server.ReceivedHeaders.ToList();
        Assert.Equal(3, received.Count);
        Assert.All(received, h => Assert.DoesNotContain(h.Keys, k => k.StartsWith("Mcp-Param-", StringComparison.OrdinalIgnoreCase)
            || k.Equals("Mcp-Name", StringComparison.OrdinalIgnoreCase) || k.Equals("Mcp-Method", StringComparison.OrdinalIgnoreCase)));
    }

    // SEP-2243: a name that cannot ride as a plain ASCII header value is sent as =?base64?…?=; it is compared decoded.
    [Fact]
    public async Task Mcp20260728_AnMcpNameInBase64_IsComparedDecoded_AndPasses()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (status, body) = await PostAsync(setup, token, EchoCall,
            ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?c2VhcmNoX2RvY3M=?="));

        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Equal(["tools/call"], setup.Server.Received.Select(r => r.RpcMethod));
    }

    [Fact]
    public async Task TheCallersTraceContext_FromMetaOrHeader_IsInTheAuditRecord_AndAMalformedOneIsNot()
    {
        await using var setup = await StartAsync();
        var token = await setup.Gateway.TokenAsync("agent-1", "build");
        const string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

        await PostAsync(setup, token, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":\"search_docs\",\"arguments\":{},\"_meta\":{\"traceparent\":\"" + trace + "\"}}}");
        await PostAsync(setup, token, """{"jsonrpc":"2.0","id":12,"method":"tools/list"}""", ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
        await PostAsync(setup, token, """{"jsonrpc":"2.0","id":13,"method":"tools/list"}""", ("traceparent", "00-not-a-trace-at-all"));

        var records = setup.Gateway.AuditRecords().Where(r => r.TryGetProperty("mcp", out var m) && m.TryGetProperty("id", out _)).ToList();
        Assert.Equal(trace, records.Single(r => r.GetProperty("mcp").GetProperty("id").GetString() == "11").GetProperty("traceparent").GetString());
        Assert.True(records.Single(r => r.GetProperty("mcp").GetProperty("id").GetString() == "12").TryGetProperty("traceparent", out _));
        Assert.False(records.Single(r => r.GetProperty("mcp").GetProperty("id").GetString() == "13").TryGetProperty("traceparent", out _));
    }

    [Theory]
    [InlineData("\"ttlMs\":60000,\"cacheScope\":\"public\"")]
    [InlineData("\"ttlMs\":60000")]
    [InlineData("\"cacheScope\":\"PUBLIC\"")]
    public async Task AFilteredList_IsMarkedPrivateToTheCaller_WhateverCachingTheServerDeclared(string hints)
    {
        await using var setup = await StartAsync();
        setup.Server.Answer = (_, _) => ("application/json", Utf8(Tools.Replace("\"result\":{", "\"result\":{" + hints + ",", StringComparison.Ordinal)));
        var token = await setup.Gateway.TokenAsync("agent-1", "exploration");

        var (_, body) = await PostAsync(setup, token, ListRequest);

        using var doc = JsonDocument.Parse(body);
        var result = doc.RootElement.GetProperty("result");
        Assert.Equal("private", result.GetProperty("cacheScope").GetString());
        Assert.DoesNotContain("deploy", body);
        if (hints.Contains("ttlMs", StringComparison.Ordinal))
            Assert.Equal(60000, result.GetProperty("ttlMs").GetInt32());
    }
}
