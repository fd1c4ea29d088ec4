using AgentPerimeter.Gateway.Secrets;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace AgentPerimeter.Gateway.Proxy;

/// <summary>
/// Adds the perimeter's two transforms to every route: credentials stripped and secrets injected at the
/// last moment (request), secrets scrubbed and MCP answers inspected (response).
/// </summary>
internal sealed class PerimeterTransformProvider(SecretInjectionTransform inject, InspectingResponseTransform inspect) : ITransformProvider
{
    private static readonly ActionIdRequestTransform ActionId = new();
    private static readonly HeaderHygieneTransform Hygiene = new();

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.RequestTransforms.Add(inject);
        context.RequestTransforms.Add(ActionId);
        context.RequestTransforms.Add(Hygiene);
        context.ResponseTransforms.Add(inspect);
    }
}
