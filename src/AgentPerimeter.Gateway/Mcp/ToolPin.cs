namespace AgentPerimeter.Gateway.Mcp;

/// <summary>One pinned tool definition.</summary>
public sealed class ToolPin
{
    public required string Route { get; init; }
    public required string Tool { get; init; }
    /// <summary>Hash of the approved definition (name + description + input schema).</summary>
    public required string ApprovedHash { get; set; }
    /// <summary>Hash of the latest definition seen; differs from <see cref="ApprovedHash"/> while a change awaits approval.</summary>
    public required string LatestHash { get; set; }
    public string? LatestDescription { get; set; }
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset? ChangedAt { get; set; }

    public bool Withheld => ApprovedHash != LatestHash;
}
