using Microsoft.Extensions.Options;

namespace AgentPerimeter.Gateway.Approvals;

/// <summary>Startup validation of <c>Gateway:Approvals</c>.</summary>
internal sealed class ApprovalOptionsValidator : IValidateOptions<ApprovalOptions>
{
    public ValidateOptionsResult Validate(string? name, ApprovalOptions options)
    {
        var errors = new List<string>();
        if (options.Expiry <= TimeSpan.Zero)
            errors.Add("Gateway:Approvals:Expiry: must be a positive duration (default 01:00:00).");
        if (options.PageUrl is { Length: > 0 } url
            && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0 || uri.Fragment.Length > 0))
            errors.Add($"Gateway:Approvals:PageUrl: '{url}' must be the base URL people reach the admin listener's approval pages at, e.g. \"https://perimeter-admin.example.com\".");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
