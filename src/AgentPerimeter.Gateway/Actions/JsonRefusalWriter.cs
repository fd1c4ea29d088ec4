using System.Buffers;
using System.Text.Json;

namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// The default refusal: one JSON shape for every refusal, so a harness can act on <c>error</c> /
/// <c>decision</c> and show <c>message</c> to the model. Never a stack trace, a secret or an internal address.
/// </summary>
public sealed class JsonRefusalWriter : IRefusalWriter
{
    public static readonly JsonRefusalWriter Instance = new();

    private JsonRefusalWriter()
    {
    }

    /// <summary>
    /// The 401 challenge (RFC 6750, RFC 9728): where the protected resource's metadata is, so a client
    /// can discover how to get a token; no <c>error</c> when no token was sent at all.
    /// </summary>
    public static string BearerChallenge(HttpContext context, string code)
    {
        var baseUrl = context.RequestServices?.GetService<ProtectedResourceInfo>()?.PublicUrl?.TrimEnd('/')
            ?? $"{context.Request.Scheme}://{context.Request.Host}";
        var metadata = $"resource_metadata=\"{baseUrl}{ProtectedResourceInfo.MetadataPath}\"";
        return code == AgentPerimeter.Protocol.Refusals.RefusalCodes.MissingToken
            ? $"Bearer {metadata}"
            : $"Bearer error=\"invalid_token\", error_description=\"{code}\", {metadata}";
    }

    public async Task WriteAsync(HttpContext context, ActionContext action, Refusal refusal)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        // A stage that decided the connection must end (ambiguous framing, an upgrade) said so; clearing keeps that.
        bool close = string.Equals(context.Response.Headers.Connection.ToString(), "close", StringComparison.OrdinalIgnoreCase);
        context.Response.Clear();
        if (close)
            context.Response.Headers.Connection = "close";
        context.Response.Headers[ActionResponses.ActionIdHeader] = action.ActionId;
        context.Response.StatusCode = refusal.Status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        if (refusal.Status == StatusCodes.Status401Unauthorized)
            context.Response.Headers.WWWAuthenticate = BearerChallenge(context, refusal.Code);

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, RefusalFields.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("error", refusal.Code);
            w.WriteString("message", refusal.Message);
            RefusalFields.Write(w, action);
            w.WriteEndObject();
        }
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
