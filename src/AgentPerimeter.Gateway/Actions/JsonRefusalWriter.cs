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

    public async Task WriteAsync(HttpContext context, ActionContext action, Refusal refusal)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.Clear();
        context.Response.Headers[ActionResponses.ActionIdHeader] = action.ActionId;
        context.Response.StatusCode = refusal.Status;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        if (refusal.Status == StatusCodes.Status401Unauthorized)
            context.Response.Headers.WWWAuthenticate = $"Bearer error=\"invalid_token\", error_description=\"{refusal.Code}\"";

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
