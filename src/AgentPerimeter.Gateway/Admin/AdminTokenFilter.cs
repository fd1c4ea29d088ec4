using AgentPerimeter.Gateway.Hosting;
using AgentPerimeter.Gateway.Secrets;
using AgentPerimeter.Protocol.Refusals;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>With <c>Gateway:Admin:TokenFile</c> set, /admin/* needs the operators' bearer token (compared in fixed time, scrubbed from logs).</summary>
internal sealed class AdminTokenFilter(GatewayOptions options, SecretScrubber scrubber) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (options.Admin.TokenFile is not { } file)
            return await next(context);
        // Re-read per call: an operator rotates the token by replacing the file.
        var expected = File.ReadAllText(options.ResolveDataPath(file)).Trim();
        scrubber.Remember("admin-token", expected);
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
        if (!SecretCompare.FixedTimeEquals(presented, expected))
        {
            return Results.Json(new { error = RefusalCodes.AdminUnauthorized, message = "The admin API needs 'Authorization: Bearer <admin token>' (PERIMETER_ADMIN_TOKEN for the CLI)." }, statusCode: 401);
        }
        return await next(context);
    }
}
