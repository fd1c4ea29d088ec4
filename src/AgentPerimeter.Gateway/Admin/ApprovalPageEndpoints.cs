using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AgentPerimeter.Gateway.Approvals;
using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Gateway.Secrets;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>
/// The approval page on the admin listener, for the person a held call is shown to: <c>GET /approvals/{id}</c>
/// shows the pending call in full (agent, work type, session, route, rule, tool or request, arguments, when,
/// expires), and approve / deny with a reason. Operators sign in with their name and, when
/// <c>Gateway:Admin:TokenFile</c> is set, the admin token (compared in fixed time); the session is an
/// HMAC-signed cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, path /approvals, 8 hours) whose key derives
/// from the admin token, so rotating the token signs everyone out. Each decision carries a CSRF token bound to
/// the session and the approval, a foreign <c>Origin</c> is refused, and the decision is an operator audit
/// record naming the operator and the reason, written before it takes effect. Pages forbid framing and scripts.
/// </summary>
internal sealed class ApprovalPageEndpoints(GatewayOptions options, SecretScrubber scrubber, TimeProvider time)
{
    private const string CookieName = "perimeter_operator";
    private static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(8);
    private static readonly byte[] ProcessKey = RandomNumberGenerator.GetBytes(32);
    private const int MaxReason = 500;

    public static void Map(WebApplication app)
    {
        var page = app.MapGroup("/approvals").WithMetadata(new Actions.ListenerMetadata(Actions.ListenerKind.Admin));
        page.MapGet("/login", (HttpContext context, ApprovalPageEndpoints pages) => pages.LoginForm(context, context.Request.Query["next"].ToString(), null));
        page.MapPost("/login", (HttpContext context, ApprovalPageEndpoints pages) => pages.LoginAsync(context));
        page.MapGet("/{id}", (HttpContext context, string id, IApprovalStore store, ApprovalPageEndpoints pages) => pages.ShowAsync(context, id, store));
        page.MapPost("/{id}", (HttpContext context, string id, IApprovalStore store, OperatorRecords records, ApprovalPageEndpoints pages) => pages.DecideAsync(context, id, store, records));
    }

    private bool TokenRequired => options.Admin.TokenFile is not null;

    /// <summary>The signing key: from the admin token when there is one (replicas agree; rotation signs out), else per process.</summary>
    private byte[] Key()
    {
        if (options.Admin.TokenFile is not { } file)
            return ProcessKey;
        var token = File.ReadAllText(options.ResolveDataPath(file)).Trim();
        scrubber.Remember("admin-token", token);
        return SHA256.HashData(Encoding.UTF8.GetBytes("agentperimeter approval page\n" + token));
    }

    private string Sign(string value) => Base64Url(HMACSHA256.HashData(Key(), Encoding.UTF8.GetBytes(value)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The signed-in operator's name, or null.</summary>
    private string? Operator(HttpContext context, out string cookie)
    {
        cookie = context.Request.Cookies[CookieName] ?? "";
        var parts = cookie.Split('.');
        if (parts.Length != 2)
            return null;
        string payload;
        try
        {
            payload = Encoding.UTF8.GetString(Convert.FromBase64String(parts[0].Replace('-', '+').Replace('_', '/').PadRight((parts[0].Length + 3) / 4 * 4, '=')));
        }
        catch (FormatException)
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(payload)), Encoding.ASCII.GetBytes(parts[1])))
            return null;
        var fields = payload.Split('\n');
        if (fields.Length != 2 || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || time.GetUtcNow().ToUnixTimeSeconds() >= expires)
            return null;
        return fields[0];
    }

    private string Csrf(string cookie, string id) => Sign("csrf\n" + cookie + "\n" + id);

    /// <summary>No Origin (a non-browser client), this listener's own, or the origin of <c>Gateway:Approvals:PageUrl</c> (a TLS proxy in front).</summary>
    private bool SameOrigin(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || string.Equals(origin, $"{context.Request.Scheme}://{context.Request.Host}", StringComparison.OrdinalIgnoreCase))
            return true;
        return options.Approvals.PageUrl is { } page && Uri.TryCreate(page, UriKind.Absolute, out var uri)
            && string.Equals(origin, uri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);
    }

    private bool SecureCookie(HttpContext context) =>
        context.Request.IsHttps || options.Approvals.PageUrl?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true;

    private static bool IsPagePath(string next) =>
        next.StartsWith(ApprovalPageLinks.PathPrefix, StringComparison.Ordinal) && next.Length > ApprovalPageLinks.PathPrefix.Length
        && Policy.PathGuardMiddleware.Check(next) is null && !next.Contains('?');

    private IResult LoginForm(HttpContext context, string next, string? problem)
    {
        var html = new StringBuilder();
        html.Append("<h1>Sign in to decide held calls</h1>");
        if (problem is not null)
            html.Append("<p class=\"problem\" id=\"problem\">").Append(E(problem)).Append("</p>");
        html.Append("<form method=\"post\" action=\"/approvals/login\">")
            .Append("<input type=\"hidden\" name=\"next\" value=\"").Append(E(IsPagePath(next) ? next : "")).Append("\">")
            .Append("<label>Your name <input id=\"operator\" name=\"operator\" maxlength=\"64\" required autocomplete=\"username\"></label>");
        if (TokenRequired)
            html.Append("<label>Admin token <input id=\"token\" name=\"token\" type=\"password\" required autocomplete=\"current-password\"></label>");
        html.Append("<button id=\"signin\" type=\"submit\">Sign in</button></form>");
        return Page(context, "Sign in — AgentPerimeter", html.ToString(), problem is null ? 200 : 401);
    }

    private async Task<IResult> LoginAsync(HttpContext context)
    {
        if (!SameOrigin(context))
            return Page(context, "Refused", "<p>This form may only be sent from this page.</p>", 403);
        var form = await ReadFormAsync(context);
        if (form is null)
            return Page(context, "Refused", "<p>The form could not be read.</p>", 400);
        var next = form["next"].ToString();
        var name = form["operator"].ToString().Trim();
        if (name.Length is 0 or > 64 || name.Any(c => char.IsControl(c) || c == '\n'))
            return LoginForm(context, next, "Give your name (1-64 printable characters): it names you in the audit log.");
        if (TokenRequired)
        {
            var expected = File.ReadAllText(options.ResolveDataPath(options.Admin.TokenFile!)).Trim();
            scrubber.Remember("admin-token", expected);
            if (!SecretCompare.FixedTimeEquals(form["token"].ToString(), expected))
                return LoginForm(context, next, "The admin token is not right.");
        }
        var payload = name + "\n" + (time.GetUtcNow() + SessionLifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        context.Response.Cookies.Append(CookieName, Base64Url(Encoding.UTF8.GetBytes(payload)) + "." + Sign(payload), new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = SecureCookie(context), Path = "/approvals", MaxAge = SessionLifetime, IsEssential = true,
        });
        return Results.Redirect(IsPagePath(next) ? next : "/approvals/login", permanent: false, preserveMethod: false);
    }

    private async Task<IResult> ShowAsync(HttpContext context, string id, IApprovalStore store)
    {
        if (Operator(context, out var cookie) is not { } who)
            return Results.Redirect("/approvals/login?next=" + Uri.EscapeDataString(ApprovalPageLinks.PathPrefix + id));
        var approval = await store.GetAsync(id);
        if (approval is null)
            return Page(context, "Unknown approval", $"<p>There is no approval <code>{E(id)}</code>.</p>", 404);
        var html = new StringBuilder();
        html.Append("<h1>A held call</h1>");
        html.Append("<p>Signed in as <strong id=\"who\">").Append(E(who)).Append("</strong>.</p>");
        html.Append("<dl>");
        Row(html, "Approval", approval.Id, "id");
        Row(html, "Status", approval.Status.ToString().ToLowerInvariant(), "status");
        Row(html, "Agent", approval.AgentId, "agent");
        Row(html, "Work type", approval.WorkType, "work-type");
        Row(html, "Session", approval.SessionId, "session");
        Row(html, "Route", approval.Route, "route");
        Row(html, "Rule", approval.RuleId, "rule");
        Row(html, "Call", approval.What, "what");
        Row(html, "Held since", approval.CreatedAt.ToString("u", CultureInfo.InvariantCulture), "created");
        Row(html, "Expires", approval.ExpiresAt.ToString("u", CultureInfo.InvariantCulture), "expires");
        if (approval.DecidedBy is { } by)
            Row(html, "Decided by", $"{by} at {approval.DecidedAt?.ToString("u", CultureInfo.InvariantCulture)}", "decided-by");
        html.Append("</dl><h2>Arguments</h2><pre id=\"arguments\">").Append(E(Actions.ActionResponses.Visible(Pretty(approval.Arguments)))).Append("</pre>");
        if (approval.Status == ApprovalStatus.Pending)
        {
            html.Append("<form method=\"post\" action=\"").Append(E(ApprovalPageLinks.PathPrefix + Uri.EscapeDataString(id))).Append("\">")
                .Append("<input type=\"hidden\" name=\"csrf\" value=\"").Append(E(Csrf(cookie, id))).Append("\">")
                .Append("<label>Reason <textarea id=\"reason\" name=\"reason\" maxlength=\"").Append(MaxReason).Append("\"></textarea></label>")
                .Append("<button id=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">Approve this call once</button> ")
                .Append("<button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>");
        }
        return Page(context, "Held call " + approval.Id, html.ToString(), 200);
    }

    private async Task<IResult> DecideAsync(HttpContext context, string id, IApprovalStore store, OperatorRecords records)
    {
        if (Operator(context, out var cookie) is not { } who)
            return Page(context, "Sign in first", "<p>Your session has ended; <a href=\"/approvals/login\">sign in</a> again.</p>", 401);
        if (!SameOrigin(context))
            return Page(context, "Refused", "<p>This form may only be sent from this page.</p>", 403);
        var form = await ReadFormAsync(context);
        if (form is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(form["csrf"].ToString()), Encoding.ASCII.GetBytes(Csrf(cookie, id))))
            return Page(context, "Refused", "<p>This decision did not come from the approval page (missing or wrong form token). Open the page and decide there.</p>", 403);
        var decision = form["decision"].ToString();
        if (decision is not ("approve" or "deny"))
            return Page(context, "Refused", "<p>Choose approve or deny.</p>", 400);
        var reason = form["reason"].ToString().Trim();
        if (reason.Length > MaxReason || reason.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
            return Page(context, "Refused", $"<p>Give a reason of at most {MaxReason} printable characters.</p>", 400);
        bool approve = decision == "approve";
        var pending = await store.GetAsync(id);
        if (pending is null)
            return Page(context, "Unknown approval", $"<p>There is no approval <code>{E(id)}</code>.</p>", 404);
        if (pending.Status != ApprovalStatus.Pending)
            return Page(context, "Already decided", $"<p>Approval <code>{E(id)}</code> is <span id=\"status\">{E(pending.Status.ToString().ToLowerInvariant())}</span>; only a pending call can be decided.</p>", 409);
        // Recorded before it takes effect: a decision the log cannot hold is not made.
        if (!await records.RecordAsAsync(context, who, approve ? "approval_approved" : "approval_denied", new("approval_id", pending.Id),
                new("agent", pending.AgentId), new("work_type", pending.WorkType), new("route", pending.Route), new("what", pending.What),
                new("reason", reason.Length == 0 ? null : reason), new("via", "approval_page")))
            return Page(context, "Not recorded", "<p>The perimeter cannot record decisions right now, so it did not decide. Retry when the audit log is writable.</p>", 503);
        if (await store.DecideAsync(id, approve, who) is not true)
        {
            // The record above said what was meant; this one says it did not take effect (decided meanwhile, or expired).
            await records.RecordAsAsync(context, who, "approval_decision_not_applied", new("approval_id", pending.Id),
                new("reason", "the approval was decided by someone else or expired meanwhile"), new("via", "approval_page"));
            return Page(context, "Already decided", $"<p>Approval <code>{E(id)}</code> was decided meanwhile.</p>", 409);
        }
        var body = approve
            ? $"<p id=\"result\">Approved by {E(who)}. The agent's next try of this exact call passes, once.</p>"
            : $"<p id=\"result\">Denied by {E(who)}. The agent is told not to retry it.</p>";
        return Page(context, approve ? "Approved" : "Denied", body, 200);
    }

    private static async Task<IFormCollection?> ReadFormAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
            return null;
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = 16 * 1024;
        try
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            return form.Any(kv => kv.Value.Count > 1) ? null : form;
        }
        catch (Exception ex) when (ex is BadHttpRequestException or InvalidDataException or IOException)
        {
            return null;
        }
    }

    private static void Row(StringBuilder html, string label, string? value, string id) =>
        html.Append("<dt>").Append(E(label)).Append("</dt><dd id=\"").Append(id).Append("\">").Append(E(Actions.ActionResponses.Visible(value ?? ""))).Append("</dd>");

    private static string Pretty(string? arguments)
    {
        if (string.IsNullOrEmpty(arguments))
            return "(none)";
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(arguments);
            return System.Text.Json.JsonSerializer.Serialize(doc.RootElement, PrettyJson);
        }
        catch (System.Text.Json.JsonException)
        {
            return arguments;
        }
    }

    private static readonly System.Text.Json.JsonSerializerOptions PrettyJson = new()
    {
        WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string E(string value) => WebUtility.HtmlEncode(value);

    private static IResult Page(HttpContext context, string title, string body, int status)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        // "same-origin", not "no-referrer": with no-referrer a browser sends "Origin: null" on the page's own
        // form posts, and the origin check must see this listener's origin (the real-browser test found it).
        headers["Referrer-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        var html = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + E(title) + "</title>"
            + "<style>body{font:15px system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem}dt{font-weight:600}"
            + "dd{margin:0 0 .5rem 0}pre{background:#f4f4f4;padding:1rem;overflow:auto}label{display:block;margin:.5rem 0}"
            + "textarea{width:100%;min-height:4rem}button{margin-right:1rem;padding:.4rem 1rem}.problem{color:#a00}</style></head><body>"
            + body + "</body></html>";
        return Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
