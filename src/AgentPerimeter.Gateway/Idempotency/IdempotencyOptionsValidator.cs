using Microsoft.Extensions.Options;

namespace AgentPerimeter.Gateway.Idempotency;

/// <summary>Startup validation of <c>Gateway:Idempotency</c>.</summary>
internal sealed class IdempotencyOptionsValidator : IValidateOptions<IdempotencyOptions>
{
    public ValidateOptionsResult Validate(string? name, IdempotencyOptions options) =>
        options.Window <= TimeSpan.Zero || options.PendingTimeout <= TimeSpan.Zero || options.MaxRecordedBytes <= 0
            ? ValidateOptionsResult.Fail("Gateway:Idempotency: Window and PendingTimeout must be positive durations and MaxRecordedBytes a positive size.")
            : ValidateOptionsResult.Success;
}
