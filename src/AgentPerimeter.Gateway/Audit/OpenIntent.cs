using System.Text.Json;

namespace AgentPerimeter.Gateway.Audit;

/// <summary>An intent record with no outcome.</summary>
internal sealed record OpenIntent(string ActionId, JsonElement Record)
{
    public string? IdempotencyScope => Record.TryGetProperty("idempotency_scope", out var s) ? s.GetString() : null;

    public string? IdempotencyFingerprint => Record.TryGetProperty("idempotency_fingerprint", out var f) ? f.GetString() : null;
}
