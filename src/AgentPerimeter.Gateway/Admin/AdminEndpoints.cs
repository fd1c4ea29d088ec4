using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Hosting;

namespace AgentPerimeter.Gateway.Admin;

/// <summary>
/// Endpoints of the admin listener only (see <see cref="ListenerMatcherPolicy"/>): the open ones
/// (health, readiness, metrics, JWKS) and the /admin API behind <see cref="AdminTokenFilter"/>.
/// </summary>
internal static class AdminEndpoints
{
    public static void MapAdminEndpoints(this WebApplication app)
    {
        var open = app.MapGroup("").WithMetadata(new ListenerMetadata(ListenerKind.Admin));
        var admin = app.MapGroup("").WithMetadata(new ListenerMetadata(ListenerKind.Admin));
        admin.AddEndpointFilter<AdminTokenFilter>();

        HealthEndpoints.Map(open);
        SessionAdminEndpoints.Map(admin);
        PolicyAdminEndpoints.Map(admin);
        ApprovalAdminEndpoints.Map(admin);
        TunnelAdminEndpoints.Map(admin);
        ActionAdminEndpoints.Map(admin);
        ApprovalPageEndpoints.Map(app); // the people deciding held calls: signed-in pages, not the token API

        // Anything else on the admin listener is simply not there.
        app.MapFallback("{**path}", () => Results.NotFound()).WithMetadata(new ListenerMetadata(ListenerKind.Admin));
    }
}
