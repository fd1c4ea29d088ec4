using Microsoft.Extensions.Options;

namespace AgentPerimeter.Gateway.Approvals;

/// <summary>Startup validation of <c>Gateway:Approvals</c>.</summary>
internal sealed class ApprovalOptionsValidator : IValidateOptions<ApprovalOptions>
{
    public ValidateOptionsResult Validate(string? name, ApprovalOptions options) =>
        options.Expiry <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail("Gateway:Approvals:Expiry: must be a positive duration (default 01:00:00).")
            : ValidateOptionsResult.Success;
}
