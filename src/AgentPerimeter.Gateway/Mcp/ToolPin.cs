namespace AgentPerimeter.Gateway.Mcp;

/// <summary>One pinned tool definition.</summary>
public sealed class ToolPin
{
    public required string Route { get; init; }
    public required string Tool { get; init; }
    /// <summary>Hash of the approved definition: the whole tool object as listed, in canonical form.</summary>
    public required string ApprovedHash { get; set; }
    /// <summary>Hash of the latest definition seen; differs from <see cref="ApprovedHash"/> while a change awaits approval.</summary>
    public required string LatestHash { get; set; }
    public string? LatestDescription { get; set; }

    /// <summary>The approved definition (canonical JSON); null for a pin made before whole definitions were kept.</summary>
    public string? ApprovedDefinition { get; set; }

    /// <summary>The latest definition seen (canonical JSON).</summary>
    public string? LatestDefinition { get; set; }
    public DateTimeOffset FirstSeen { get; init; }
    public DateTimeOffset? ChangedAt { get; set; }

    public bool Withheld => ApprovedHash != LatestHash;
}
