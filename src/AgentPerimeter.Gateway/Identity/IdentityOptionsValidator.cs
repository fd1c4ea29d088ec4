using Microsoft.Extensions.Options;

namespace AgentPerimeter.Gateway.Identity;

/// <summary>Startup validation of <c>Gateway:Identity</c>.</summary>
internal sealed class IdentityOptionsValidator : IValidateOptions<IdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityOptions id)
    {
        var errors = new List<string>();
        if (id.DefaultTokenLifetime <= TimeSpan.Zero || id.DefaultTokenLifetime > id.MaxTokenLifetime)
            errors.Add("Gateway:Identity:DefaultTokenLifetime: must be positive and no longer than MaxTokenLifetime.");
        if (id.External is { } ext && string.IsNullOrWhiteSpace(ext.Authority) && string.IsNullOrWhiteSpace(ext.MetadataAddress))
            errors.Add("Gateway:Identity:External: set Authority (OIDC discovery) or MetadataAddress, or remove the External section.");
        if (id.External is { } ext2 && (ext2.Issuer ?? ext2.Authority) == id.Issuer)
            errors.Add("Gateway:Identity:External:Issuer: must differ from Gateway:Identity:Issuer, so each key vouches only for its own issuer.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
