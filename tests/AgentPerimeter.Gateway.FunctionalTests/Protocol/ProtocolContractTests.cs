using System.Net;
using System.Net.Http.Json;
using AgentPerimeter.Gateway.Actions;
using AgentPerimeter.Gateway.Approvals;
using AgentPerimeter.Gateway.Idempotency;
using AgentPerimeter.Gateway.Mcp;
using AgentPerimeter.Testing;
using AgentPerimeter.Gateway.Tunnels;
using AgentPerimeter.Protocol;
using AgentPerimeter.Protocol.Refusals;
using AgentPerimeter.Protocol.Tunnels;

namespace AgentPerimeter.Gateway.FunctionalTests.Protocol;

/// <summary>The wire contract the connector, harness and CLI read from AgentPerimeter.Protocol is the one the gateway speaks.</summary>
public class ProtocolContractTests
{
    [Fact]
    public void HeaderNames_MetaKeys_AndTheJsonRpcRefusalCode_AreTheGatewaysOwn()
    {
        Assert.Equal(ActionResponses.ActionIdHeader, PerimeterHeaders.ActionId);
        Assert.Equal(ApprovalStage.Header, PerimeterHeaders.Approval);
        Assert.Equal(IdempotencyStage.Header, PerimeterHeaders.IdempotencyKey);
        Assert.Equal(McpStage.SessionHeader, PerimeterHeaders.McpSessionId);
        Assert.Equal(TunnelEndpoints.ErrorHeader, PerimeterHeaders.Error);
        Assert.Equal(TunnelEndpoints.ConnectorHeader, TunnelHandshake.ConnectorHeader);
        Assert.Equal(McpStage.IdempotencyMetaKey, PerimeterMeta.IdempotencyKey);
        Assert.Equal(McpStage.ApprovalMetaKey, PerimeterMeta.ApprovalId);
        Assert.Equal(McpResponses.PerimeterRefusal, PerimeterRefusal.JsonRpcErrorCode);
    }

    [Fact]
    public async Task HttpRefusalBody_ReadsAsPerimeterRefusal_WithTheActionIdOfItsHeader()
    {
        await using var gateway = await TestGateway.StartWithUpstreamAsync();

        using var response = await gateway.Agent.GetAsync("/api/repos");
        var refusal = await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.PerimeterRefusal);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(RefusalCodes.MissingToken, refusal!.Error);
        Assert.Equal("unauthenticated", refusal.Decision);
        Assert.Equal(response.Headers.GetValues(PerimeterHeaders.ActionId).Single(), refusal.ActionId);
        Assert.False(string.IsNullOrEmpty(refusal.Message));
    }
}
