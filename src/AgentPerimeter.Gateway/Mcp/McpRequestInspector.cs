using AgentPerimeter.Protocol.Refusals;
using System.Text;
using System.Text.Json;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Policy;
using Microsoft.Net.Http.Headers;

namespace AgentPerimeter.Gateway.Mcp;

/// <summary>
/// Reads one MCP POST: buffers the body once, parses the JSON-RPC message, checks the session binding,
/// reads the target, arguments and caller intent (<c>_meta</c>), and decides the message. Returns false
/// when it has answered the request itself.
/// </summary>
internal sealed class McpRequestInspector(McpSessions sessions, ToolPins pins)
{
    private const int MaxAuditArgumentChars = 2048;

    public async Task<bool> InspectAsync(HttpContext context, ActionContext action, McpActionInfo mcp)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            if (await RefuseDeferredAsync(context, action).ConfigureAwait(false))
                return false;
            await McpResponses.RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType, -32600,
                new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.UnsupportedMediaType, null, null), null,
                "MCP messages must be sent as 'Content-Type: application/json'.").ConfigureAwait(false);
            return false;
        }

        // Buffered once (Kestrel caps its size): the checked bytes are the forwarded bytes.
        ReadOnlyMemory<byte> bytes;
        try
        {
            bytes = await RequestFingerprint.BufferBodyAsync(context, action).ConfigureAwait(false);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            // Too large once read (chunked, no Content-Length to refuse it by up front), or too slow: the
            // perimeter's answer, not a gateway error.
            if (await RefuseDeferredAsync(context, action).ConfigureAwait(false))
                return false;
            bool tooLarge = ex.StatusCode == StatusCodes.Status413PayloadTooLarge;
            await McpResponses.RefuseAsync(context, tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status408RequestTimeout, -32600,
                new PolicyDecision(DecisionOutcome.BadRequest, tooLarge ? RefusalCodes.BodyTooLarge : RefusalCodes.RequestBodyError, null, null), null,
                tooLarge ? "The MCP message is larger than the perimeter accepts." : "The MCP message was not received in time.").ConfigureAwait(false);
            return false;
        }
        request.ContentLength = bytes.Length;

        var (message, errorCode, error) = McpMessage.Parse(bytes);
        if (message is null)
        {
            if (await RefuseDeferredAsync(context, action).ConfigureAwait(false))
                return false;
            var code = errorCode == -32700 ? RefusalCodes.InvalidJson : error!.Contains("batch", StringComparison.Ordinal) ? RefusalCodes.BatchNotSupported : RefusalCodes.InvalidJsonRpc;
            await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, errorCode,
                new PolicyDecision(DecisionOutcome.BadRequest, code, null, error), null, error!).ConfigureAwait(false);
            return false;
        }

        mcp.Method = message.Method;
        mcp.RawId = message.RawId;
        mcp.MessageKind = message.Kind;
        var envelope = Envelope.Read(message);
        mcp.ProtocolVersion = ProtocolVersionOf(request, envelope);
        mcp.ClientElicitsUrl = (mcp.SessionId is { } known && sessions.ElicitsUrl(known)) || envelope.ElicitsUrl;
        // From here on, any stage's refusal of this request is a JSON-RPC error MCP clients can read.
        if (message.Kind == McpMessageKind.Request)
            action.RefusalWriter = new McpRefusalWriter(message.RawId);
        if (await RefuseDeferredAsync(context, action).ConfigureAwait(false))
            return false;

        // Every message that names a session must be its owner's, initialize included (a server may run
        // an initialize inside an existing session and hand its id back).
        if (mcp.SessionId is { } sid && await sessions.CheckAsync(sid, action.SessionId!).ConfigureAwait(false) is { } problem)
        {
            await McpStage.RefuseSessionAsync(context, problem, message.RawId).ConfigureAwait(false);
            return false;
        }

        try
        {
            if (!await DecideAsync(context, action, mcp, message, envelope.MetaVersion).ConfigureAwait(false))
                return false;
        }
        catch (InvalidOperationException)
        {
            // A string in params that is not valid text (e.g. a lone surrogate).
            await InvalidParamsAsync(context, message, RefusalCodes.InvalidParams, "Invalid params: a string is not valid text.").ConfigureAwait(false);
            return false;
        }

        mcp.ListKind = message.Method switch
        {
            "tools/list" => "tools",
            "resources/list" => "resources",
            "resources/templates/list" => "resourceTemplates",
            "prompts/list" => "prompts",
            _ => null,
        };
        return true;
    }

    private async Task<bool> DecideAsync(HttpContext context, ActionContext action, McpActionInfo mcp, McpMessage message, string? metaVersion)
    {
        JsonDocument? paramsDoc = null;
        try
        {
            JsonElement? arguments = null;
            if (!message.Params.IsEmpty && message.Method is "tools/call" or "resources/read" or "resources/subscribe" or "resources/unsubscribe" or "prompts/get" or "subscriptions/listen")
            {
                paramsDoc = JsonDocument.Parse(message.Params);
                var (ok, args) = await ReadParamsAsync(context, action, mcp, message, paramsDoc.RootElement).ConfigureAwait(false);
                if (!ok)
                    return false;
                arguments = args;
            }

            if (message.Kind == McpMessageKind.Request && message.Method is "tools/call" or "resources/read" or "prompts/get" && mcp.Target is null)
            {
                await InvalidParamsAsync(context, message, RefusalCodes.InvalidParams,
                    $"Invalid params: '{message.Method}' needs a '{(message.Method == "resources/read" ? "uri" : "name")}' string.").ConfigureAwait(false);
                return false;
            }

            // MCP 2026-07-28 mirrors the method and target into headers for intermediaries; the server
            // must refuse a request whose headers and body disagree. So does the perimeter, before
            // anything is forwarded: a header must never say one thing while the body does another.
            if (MirroredHeaderProblem(context.Request, message, mcp, metaVersion) is { } headerProblem)
            {
                await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, HeaderMismatchCode,
                    new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.HeaderMismatch, null, headerProblem), message.RawId, headerProblem).ConfigureAwait(false);
                return false;
            }

            // MCP 2026-07-28 subscriptions/listen: the stream needs the route; each resource it subscribes to
            // is decided like resources/subscribe, so a listen cannot watch what the work type may not read.
            if (message.Method == "subscriptions/listen" && message.Kind == McpMessageKind.Request)
            {
                var (uris, problem) = ListenSubscriptions(paramsDoc?.RootElement);
                if (problem is not null)
                {
                    await InvalidParamsAsync(context, message, RefusalCodes.InvalidParams, $"Invalid params: {problem}.").ConfigureAwait(false);
                    return false;
                }
                foreach (var uri in uris)
                {
                    var watch = context.GetPolicy().Decide(action.WorkType!, action.RouteId!, "resources/subscribe", uri, null);
                    // A resource whose subscription needs a person's approval cannot be watched by a listen that
                    // cannot be held: refused, naming the way that can (resources/subscribe is held for approval).
                    if (watch.Permits && watch.RuleId is { } watchRule && context.GetPolicy().ApprovalRules.Contains(watchRule))
                        watch = new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.PolicyDenied, watchRule,
                            $"Watching resource '{ActionResponses.Printable(uri, 120)}' needs a person's approval (rule '{watchRule}'); a subscriptions/listen stream cannot be held for one.");
                    if (!watch.Permits)
                    {
                        mcp.Target = uri;
                        await McpResponses.RefuseAsync(context, StatusCodes.Status200OK, McpResponses.PerimeterRefusal, watch, message.RawId, watch.Reason!).ConfigureAwait(false);
                        return false;
                    }
                }
                mcp.Target = uris.Count == 0 ? null : ActionResponses.Printable(string.Join(" ", uris), 512);
            }

            var decision = context.GetPolicy().Decide(action.WorkType!, action.RouteId!, message.Kind == McpMessageKind.Response ? null : message.Method, mcp.Target, arguments);
            if (decision.Permits && message.Method == "tools/call" && pins.IsWithheld(action.RouteId!, mcp.Target!))
            {
                decision = new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.ToolDefinitionChanged, decision.RuleId,
                    $"The definition of tool '{mcp.Target}' changed since it was approved; it is withheld until an operator re-approves it.");
            }
            if (!decision.Permits)
            {
                await McpResponses.RefuseAsync(context, StatusCodes.Status200OK, McpResponses.PerimeterRefusal, decision, message.RawId, decision.Reason!).ConfigureAwait(false);
                return false;
            }
            if (message.Kind == McpMessageKind.Request && ParamHeaderProblem(context, action, mcp, message, decision, arguments) is var (paramProblem, notAllowed))
            {
                if (notAllowed)
                    await McpResponses.RefuseAsync(context, StatusCodes.Status200OK, McpResponses.PerimeterRefusal,
                        new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.ParamHeaderNotAllowed, decision.RuleId, paramProblem), message.RawId, paramProblem).ConfigureAwait(false);
                else
                    await McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, HeaderMismatchCode,
                        new PolicyDecision(DecisionOutcome.BadRequest, RefusalCodes.HeaderMismatch, null, paramProblem), message.RawId, paramProblem).ConfigureAwait(false);
                return false;
            }
            // The message's decision replaces the route's proposal; the approval gate may still hold it.
            action.Proposal = decision;
            StripUncheckedMirrors(context.Request, message, mcp);
            return true;
        }
        finally
        {
            paramsDoc?.Dispose();
        }
    }

    private const string ParamHeaderPrefix = "Mcp-Param-";

    /// <summary>
    /// The MCP headers intermediaries route on reach the server only as checked: <c>Mcp-Method</c> and
    /// <c>Mcp-Name</c> on requests of 2026-07-28 or later (compared with the body), <c>Mcp-Param-*</c> on
    /// tools/call (allowed and compared). On any other message they were not checked, so they are removed.
    /// </summary>
    internal static void StripUncheckedMirrors(HttpRequest request, McpMessage? message, McpActionInfo mcp)
    {
        bool request2026 = message?.Kind == McpMessageKind.Request && mcp.ProtocolVersion is { Length: 10 } v && string.CompareOrdinal(v, MirroredHeadersSince) >= 0;
        if (!request2026)
        {
            request.Headers.Remove("Mcp-Method");
            request.Headers.Remove("Mcp-Name");
        }
        if (message?.Kind == McpMessageKind.Request && message.Method == "tools/call")
            return;
        List<string>? unverified = null;
        foreach (var header in request.Headers)
        {
            if (header.Key.StartsWith(ParamHeaderPrefix, StringComparison.OrdinalIgnoreCase))
                (unverified ??= []).Add(header.Key);
        }
        foreach (var name in unverified ?? [])
            request.Headers.Remove(name);
    }

    /// <summary>
    /// MCP 2026-07-28 <c>Mcp-Param-{Name}</c> headers (SEP-2243: arguments a tool marks <c>x-mcp-header</c>, mirrored
    /// for intermediaries to route on). Each must be allowed by the deciding rule's <c>ParamHeaders</c> (else
    /// NotAllowed), only on tools/call, once, and equal — decoded — to the argument the tool's approved
    /// definition maps it to (else a header/body mismatch). Null when there are none, or all agree.
    /// </summary>
    private (string Problem, bool NotAllowed)? ParamHeaderProblem(HttpContext context, ActionContext action, McpActionInfo mcp, McpMessage message, PolicyDecision decision, JsonElement? arguments)
    {
        List<(string Name, Microsoft.Extensions.Primitives.StringValues Values)>? found = null;
        foreach (var header in context.Request.Headers)
        {
            if (header.Key.StartsWith(ParamHeaderPrefix, StringComparison.OrdinalIgnoreCase))
                (found ??= []).Add((header.Key[ParamHeaderPrefix.Length..], header.Value));
        }
        if (found is null)
            return null;
        if (message.Method != "tools/call" || mcp.Target is null)
            return ($"Mcp-Param headers belong to tools/call requests only; this is '{ActionResponses.Printable(message.Method ?? "", 40)}'.", false);
        var rule = decision.RuleId is { } ruleId && context.GetPolicy().WorkTypes.TryGetValue(action.WorkType!, out var wt)
            ? wt.Rules.FirstOrDefault(r => r.Id == ruleId) : null;
        foreach (var (name, _) in found)
        {
            if (rule is null || !rule.ParamHeaders.Contains(name))
                return ($"The header 'Mcp-Param-{ActionResponses.Printable(name, 64)}' is not allowed for work type '{action.WorkType}' (rule '{decision.RuleId}' lists no such ParamHeaders entry).", true);
        }
        Dictionary<string, string[]>? declared = null;
        if (pins.ApprovedDefinition(action.RouteId!, mcp.Target) is { } definition)
        {
            try
            {
                using var doc = JsonDocument.Parse(definition);
                declared = DeclaredParamHeaders(doc.RootElement);
            }
            catch (JsonException)
            {
            }
        }
        foreach (var (name, values) in found)
        {
            if (values.Count != 1)
                return ($"The header 'Mcp-Param-{ActionResponses.Printable(name, 64)}' is given more than once.", false);
            if (declared is null || !declared.TryGetValue(name, out var path))
                return ($"Tool '{ActionResponses.Printable(mcp.Target, 80)}' declares no x-mcp-header '{ActionResponses.Printable(name, 64)}' in the definition approved for this route (list the tools first).", false);
            var expected = ArgumentAt(arguments, path);
            if (expected is null || DecodeHeaderValue(values[0]!) != expected)
                return ($"The header 'Mcp-Param-{ActionResponses.Printable(name, 64)}' does not match the body's argument '{string.Join('.', path)}'.", false);
        }
        return null;
    }

    /// <summary>x-mcp-header name → property path, over a tool definition's input schema (nested objects included).</summary>
    internal static Dictionary<string, string[]> DeclaredParamHeaders(JsonElement tool)
    {
        var map = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("inputSchema", out var schema))
            Walk(schema, []);
        return map;

        void Walk(JsonElement node, string[] path)
        {
            if (node.ValueKind != JsonValueKind.Object || path.Length > 8 || !node.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object)
                return;
            foreach (var property in properties.EnumerateObject())
            {
                string[] here = [.. path, property.Name];
                if (property.Value.ValueKind == JsonValueKind.Object && property.Value.TryGetProperty("x-mcp-header", out var header) && header.ValueKind == JsonValueKind.String
                    && !map.TryAdd(header.GetString()!, here))
                    map[header.GetString()!] = []; // declared twice (in any case): ambiguous, matches no argument
                Walk(property.Value, here);
            }
        }
    }

    /// <summary>The argument at <paramref name="path"/> as a header carries it (a string as is; an integer or boolean as JSON text), or null.</summary>
    private static string? ArgumentAt(JsonElement? arguments, string[] path)
    {
        if (arguments is not { } node || path.Length == 0)
            return null;
        foreach (var key in path)
        {
            if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(key, out node))
                return null;
        }
        return node.ValueKind switch
        {
            JsonValueKind.String => node.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => node.GetRawText(),
            _ => null,
        };
    }

    /// <summary>The resource URIs a <c>subscriptions/listen</c> asks to watch (<c>params.notifications.resourceSubscriptions</c>), or what is malformed.</summary>
    internal static (List<string> Uris, string? Problem) ListenSubscriptions(JsonElement? parameters)
    {
        var uris = new List<string>();
        if (parameters is not { ValueKind: JsonValueKind.Object } p)
            return (uris, parameters is null ? null : "'params' must be an object");
        if (McpMessage.DuplicateKey(p) is { } dup)
            return (uris, $"the key '{dup}' appears more than once");
        // Found in any letter case, as a case-insensitive reader (System.Text.Json's web defaults) would find it;
        // the duplicate check above makes it one key.
        var filter = p.EnumerateObject().FirstOrDefault(x => x.Name.Equals("notifications", StringComparison.OrdinalIgnoreCase)).Value;
        if (filter.ValueKind == JsonValueKind.Undefined)
            return (uris, null);
        if (filter.ValueKind != JsonValueKind.Object)
            return (uris, "'notifications' must be an object");
        if (McpMessage.DuplicateKey(filter) is { } dupFilter)
            return (uris, $"the key '{dupFilter}' appears more than once");
        foreach (var property in filter.EnumerateObject())
        {
            if (!property.Name.Equals("resourceSubscriptions", StringComparison.OrdinalIgnoreCase))
                continue;
            if (property.Value.ValueKind != JsonValueKind.Array)
                return (uris, "'resourceSubscriptions' must be a list of resource URIs");
            foreach (var item in property.Value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    return (uris, "'resourceSubscriptions' must be a list of resource URIs");
                uris.Add(item.GetString()!);
            }
        }
        return (uris, null);
    }

    /// <summary>Reads target, arguments and <c>_meta</c> of a message whose params policy looks at.</summary>
    private static async Task<(bool Ok, JsonElement? Arguments)> ReadParamsAsync(HttpContext context, ActionContext action, McpActionInfo mcp, McpMessage message, JsonElement p)
    {
        if (p.ValueKind != JsonValueKind.Object)
        {
            await InvalidParamsAsync(context, message, RefusalCodes.InvalidParams, "Invalid params: 'params' must be an object.").ConfigureAwait(false);
            return (false, null);
        }
        // A key that repeats (in any letter case) could be read one way here and another way
        // by the server's deserializer: refuse rather than guess which one it will use.
        var dup = McpMessage.DuplicateKey(p) ?? (p.TryGetProperty("arguments", out var argsForDup) ? McpMessage.DuplicateKeyDeep(argsForDup) : null);
        if (dup is not null)
        {
            await InvalidParamsAsync(context, message, RefusalCodes.DuplicateKey, $"Invalid params: the key '{dup}' appears more than once.").ConfigureAwait(false);
            return (false, null);
        }
        // Tasks are not offered (the capability is removed from what the agent sees): a task-augmented call
        // would run on the server with a result no one could fetch through the perimeter.
        if (p.EnumerateObject().Any(x => x.NameEquals("task") || x.Name.Equals("task", StringComparison.OrdinalIgnoreCase)))
        {
            await McpResponses.RefuseAsync(context, StatusCodes.Status200OK, McpResponses.PerimeterRefusal,
                new PolicyDecision(DecisionOutcome.Deny, RefusalCodes.TaskNotSupported, null, null), message.RawId,
                "Task-augmented requests are not supported through this perimeter; call the tool without 'task'.").ConfigureAwait(false);
            return (false, null);
        }
        var targetKey = message.Method == "tools/call" || message.Method == "prompts/get" ? "name" : "uri";
        mcp.Target = p.TryGetProperty(targetKey, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (p.TryGetProperty("_meta", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            if (meta.TryGetProperty(McpStage.IdempotencyMetaKey, out var idem) && idem.ValueKind == JsonValueKind.String)
                action.IdempotencyKey = idem.GetString();
            if (meta.TryGetProperty(McpStage.ApprovalMetaKey, out var approval) && approval.ValueKind == JsonValueKind.String)
                action.ApprovalId = approval.GetString();
            // MCP 2026-07-28 carries the caller's trace context in _meta: into the audit record (and spans).
            if (meta.TryGetProperty("traceparent", out var trace) && trace.ValueKind == JsonValueKind.String
                && ActionContext.ValidTraceParent(trace.GetString()) is { } traceParent)
                action.TraceParent = traceParent;
        }
        mcp.ArgumentsHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            p.TryGetProperty("arguments", out var hashed) ? Encoding.UTF8.GetBytes(hashed.GetRawText()) : []));
        if (!p.TryGetProperty("arguments", out var a))
            return (true, null);
        // Recorded and shown decoded: an escape (\u0073k-...) cannot hide a value from the reader or the scrubber.
        var raw = Decoded(a);
        mcp.FullArguments = raw;
        mcp.Arguments = raw.Length <= MaxAuditArgumentChars ? raw : string.Concat(raw.AsSpan(0, MaxAuditArgumentChars), "…[truncated]");
        return (true, a);
    }

    private static readonly JsonWriterOptions DecodedWriter = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The arguments re-written with only the escapes JSON needs (quotes, backslashes, control characters).</summary>
    private static string Decoded(JsonElement arguments)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, DecodedWriter))
            arguments.WriteTo(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The header's version, else the body's (2026-07-28 <c>_meta</c>, or an initialize's <c>protocolVersion</c>), capped and printable, else null.</summary>
    private static string? ProtocolVersionOf(HttpRequest request, Envelope envelope)
    {
        var header = request.Headers["MCP-Protocol-Version"].ToString();
        if (header.Length > 0)
            return ActionResponses.Printable(header, 32);
        return (envelope.MetaVersion ?? envelope.InitializeVersion) is { } version ? ActionResponses.Printable(version, 32) : null;
    }

    private const string ProtocolVersionMetaKey = "io.modelcontextprotocol/protocolVersion";
    private const string ClientCapabilitiesMetaKey = "io.modelcontextprotocol/clientCapabilities";

    /// <summary>
    /// What the message's params say about the exchange itself, read in one parse — and none at all unless a
    /// key it looks for (or an escape that could spell one, "protocol\u0056ersion") appears in the bytes:
    /// the MCP 2026-07-28 <c>_meta</c> protocol version, an initialize's <c>protocolVersion</c>, and whether
    /// the client declares URL-mode elicitation (<c>capabilities.elicitation.url</c> of an initialize, or the
    /// same under <c>_meta["io.modelcontextprotocol/clientCapabilities"]</c>).
    /// </summary>
    internal readonly record struct Envelope(string? MetaVersion, string? InitializeVersion, bool ElicitsUrl)
    {
        public static Envelope Read(McpMessage message)
        {
            var bytes = message.Params.Span;
            if (bytes.IsEmpty || (bytes.IndexOf("protocolVersion"u8) < 0 && bytes.IndexOf("elicitation"u8) < 0 && bytes.IndexOf((byte)'\\') < 0))
                return default;
            try
            {
                using var doc = JsonDocument.Parse(message.Params);
                var p = doc.RootElement;
                if (p.ValueKind != JsonValueKind.Object)
                    return default;
                var meta = p.TryGetProperty("_meta", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
                string? metaVersion = meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty(ProtocolVersionMetaKey, out var mv) && mv.ValueKind == JsonValueKind.String
                    ? mv.GetString() : null;
                bool initialize = message.Method == "initialize";
                string? initializeVersion = initialize && p.TryGetProperty("protocolVersion", out var iv) && iv.ValueKind == JsonValueKind.String ? iv.GetString() : null;
                JsonElement capabilities = default;
                bool declared = (initialize && p.TryGetProperty("capabilities", out capabilities))
                    || (meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty(ClientCapabilitiesMetaKey, out capabilities));
                bool elicitsUrl = declared && capabilities.ValueKind == JsonValueKind.Object
                    && capabilities.TryGetProperty("elicitation", out var elicitation) && elicitation.ValueKind == JsonValueKind.Object
                    && elicitation.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.Object;
                return new Envelope(metaVersion, initializeVersion, elicitsUrl);
            }
            catch (JsonException)
            {
                return default;
            }
        }
    }

    /// <summary>JSON-RPC error code of a header/body mismatch (MCP 2026-07-28, <c>HeaderMismatch</c>).</summary>
    public const int HeaderMismatchCode = -32020;

    /// <summary>The first protocol version whose requests carry mirrored headers a server must check.</summary>
    private const string MirroredHeadersSince = "2026-07-28";

    /// <summary>
    /// On a request of MCP 2026-07-28 or later: <c>Mcp-Method</c> present once and equal to the body's
    /// method; <c>Mcp-Name</c> present once and equal to the target on tools/call, resources/read and
    /// prompts/get, and absent elsewhere. Null when the headers agree (or the version predates them).
    /// </summary>
    internal static string? MirroredHeaderProblem(HttpRequest request, McpMessage message, McpActionInfo mcp, string? metaVersion)
    {
        // Two versions at once — two header lines, or one comma-joined line — and the gateway and the
        // server could each act on a different one (one that requires the header check, one that does not).
        var versions = request.Headers["MCP-Protocol-Version"];
        if (versions.Count > 1 || versions.ToString().Contains(',', StringComparison.Ordinal))
            return "The MCP-Protocol-Version header is given more than once; send one version.";
        var version = versions.ToString();
        // The version in the header and the one in the body's _meta must be one version: the server may act on either.
        if (metaVersion is not null && version.Length > 0 && metaVersion != version)
            return $"The MCP-Protocol-Version header ('{ActionResponses.Printable(version, 32)}') and the body's _meta protocol version ('{ActionResponses.Printable(metaVersion, 32)}') differ; send one version.";
        if (version.Length == 0 && metaVersion is not null)
            version = metaVersion;
        if (version.Length != MirroredHeadersSince.Length || string.CompareOrdinal(version, MirroredHeadersSince) < 0 || message.Kind == McpMessageKind.Response)
            return null;
        var methodHeader = request.Headers["Mcp-Method"];
        if (methodHeader.Count == 0)
            return $"The Mcp-Method header is required on MCP {version} requests (it must repeat the body's method, '{message.Method}').";
        if (methodHeader.Count > 1 || methodHeader[0] != message.Method)
            return $"The Mcp-Method header ('{ActionResponses.Printable(methodHeader.ToString(), 80)}') does not match the body's method ('{message.Method}').";
        bool nameBearing = message.Method is "tools/call" or "resources/read" or "prompts/get";
        var nameHeader = request.Headers["Mcp-Name"];
        if (nameBearing && mcp.Target is not null)
        {
            if (nameHeader.Count == 0)
                return $"The Mcp-Name header is required on MCP {version} '{message.Method}' requests (it must repeat '{ActionResponses.Printable(mcp.Target, 80)}').";
            // A name that cannot ride as a plain ASCII header value arrives as "=?base64?…?=" (UTF-8, standard
            // alphabet); it is compared decoded, and a sentinel that does not decode is refused, never taken literally.
            if (nameHeader.Count > 1 || DecodeHeaderValue(nameHeader[0]!) != mcp.Target)
                return $"The Mcp-Name header ('{ActionResponses.Printable(nameHeader.ToString(), 80)}') does not match the body's target ('{ActionResponses.Printable(mcp.Target, 80)}').";
        }
        else if (nameHeader.Count > 0)
        {
            return $"The Mcp-Name header ('{ActionResponses.Printable(nameHeader.ToString(), 80)}') names a target the body does not have.";
        }
        return null;
    }

    private const string Base64Prefix = "=?base64?";
    private const string Base64Suffix = "?=";

    /// <summary>
    /// An MCP header value as the body spells it (SEP-2243): <c>=?base64?{Base64 of UTF-8}?=</c> decoded (the
    /// markers are lower-case and exact), anything else as is; null for a sentinel that is not valid Base64 of
    /// valid UTF-8, so it matches no body value.
    /// </summary>
    internal static string? DecodeHeaderValue(string value)
    {
        if (!value.StartsWith(Base64Prefix, StringComparison.Ordinal) || !value.EndsWith(Base64Suffix, StringComparison.Ordinal)
            || value.Length < Base64Prefix.Length + Base64Suffix.Length)
        {
            // The sentinel's markers in another case: an intermediary may decode it, the spec says not to — refuse the doubt.
            return value.StartsWith(Base64Prefix, StringComparison.OrdinalIgnoreCase) && value.EndsWith(Base64Suffix, StringComparison.Ordinal) ? null : value;
        }
        var payload = value.AsSpan(Base64Prefix.Length, value.Length - Base64Prefix.Length - Base64Suffix.Length);
        var bytes = new byte[(payload.Length / 4 + 1) * 3];
        // Strict: the decoder skips whitespace and ignores non-zero padding bits; only the canonical encoding
        // of the bytes counts (what any other decoder on the way reads the same).
        if (!Convert.TryFromBase64Chars(payload, bytes, out int written) || !payload.SequenceEqual(Convert.ToBase64String(bytes, 0, written)))
            return null;
        try
        {
            return new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, written);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Answers the route policy's refusal (deferred until the id was read), if there is one.</summary>
    private static async Task<bool> RefuseDeferredAsync(HttpContext context, ActionContext action)
    {
        if (action.DeferredRefusal is not { } refused)
            return false;
        action.DeferredRefusal = null;
        await ActionResponses.RefuseAsync(context, StatusCodes.Status403Forbidden, refused).ConfigureAwait(false);
        return true;
    }

    private static Task InvalidParamsAsync(HttpContext context, McpMessage message, string code, string text) =>
        McpResponses.RefuseAsync(context, StatusCodes.Status400BadRequest, -32602,
            new PolicyDecision(DecisionOutcome.BadRequest, code, null, null), message.RawId, text);
}
