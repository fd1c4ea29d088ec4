using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Hosting;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>
/// Operator actions — minting a token, revoking, deciding an approval, re-approving a tool — are records
/// of the audit chain too (<c>kind: "operator"</c>), naming who: <c>X-Perimeter-Operator</c> when sent,
/// else the credential that was presented.
/// </summary>
internal sealed class OperatorRecords(IActionRecorder recorder, GatewayOptions options)
{
    public const string Kind = "operator";

    public static string Who(HttpContext context, GatewayOptions options) =>
        context.Request.Headers[Protocol.PerimeterHeaders.Operator].ToString() is { Length: > 0 and <= 64 } name && !name.Any(char.IsControl)
            ? name
            : options.Admin.TokenFile is null ? "admin-listener" : "admin-token";

    /// <summary>The answer to an operator action that could not be recorded.</summary>
    public static IResult Unrecorded(string what) =>
        Results.Json(new { error = Protocol.Refusals.RefusalCodes.AuditUnavailable, message = $"The perimeter cannot record operator actions right now, so {what}. Retry when the audit log is writable again." }, statusCode: 503);

    /// <summary>As <see cref="RecordAsync"/>, for an operator named by a signed-in session (the approval page) rather than a header.</summary>
    public Task<bool> RecordAsAsync(HttpContext context, string operatorName, string eventName, params KeyValuePair<string, object?>[] fields) =>
        recorder.RecordEventAsync(new PerimeterEvent(Kind, eventName,
        [
            new("operator", operatorName),
            new("remote", context.Connection.RemoteIpAddress?.ToString()),
            .. fields,
        ]));

    /// <summary>Writes the record; false when it could not be made durable (the caller refuses the operation's answer).</summary>
    public Task<bool> RecordAsync(HttpContext context, string eventName, params KeyValuePair<string, object?>[] fields) =>
        recorder.RecordEventAsync(new PerimeterEvent(Kind, eventName,
        [
            new("operator", Who(context, options)),
            new("remote", context.Connection.RemoteIpAddress?.ToString()),
            .. fields,
        ]));
}
