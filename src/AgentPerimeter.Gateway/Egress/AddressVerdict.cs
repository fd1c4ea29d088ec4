namespace AgentPerimeter.Gateway.Egress;

/// <summary>
/// What <see cref="AddressGuard"/> says about one destination address: allowed, or refused with a bounded
/// <see cref="Reason"/> and a message an agent can read. A class rather than a struct on purpose: a
/// forgotten <c>default</c> verdict is a null to trip over, never a silent "allowed".
/// </summary>
internal sealed class AddressVerdict
{
    private AddressVerdict(string? reason, string? range, string? embedding, string message)
    {
        Reason = reason;
        Range = range;
        Embedding = embedding;
        Message = message;
    }

    /// <summary>The one allowed verdict: an allowed check allocates nothing.</summary>
    public static AddressVerdict Allowed { get; } = new(null, null, null, "allowed");

    public bool IsAllowed => Reason is null;

    /// <summary>Null when allowed; otherwise one of <see cref="AddressRefusalReason"/>.</summary>
    public string? Reason { get; }

    /// <summary>The refused range the address (or the IPv4 address it embeds) falls in, e.g. <c>169.254.0.0/16</c>.</summary>
    public string? Range { get; }

    /// <summary>Null for a plain address; for an IPv6 address judged by the IPv4 address inside it, one of <see cref="EmbeddedIpv4Form"/>.</summary>
    public string? Embedding { get; }

    /// <summary>
    /// Why, in words: what kind of address it is, its range and RFC. It never contains the address itself,
    /// so a caller decides what of the destination an agent may see (a name it asked for, not what it resolved to).
    /// </summary>
    public string Message { get; }

    /// <summary>The refusal for an address in <paramref name="range"/>, reached directly or through an embedding.</summary>
    public static AddressVerdict Refused(SpecialAddressRange range, string? embedding)
    {
        var what = $"{range.What} ({range.Network}, {range.Source})";
        var message = embedding is null
            ? $"refused: {what}"
            : $"refused: an IPv6 address whose {EmbeddedIpv4Form.Describe(embedding)} carries an IPv4 address that is {what}";
        return new AddressVerdict(range.Reason, range.Network.ToString(), embedding, message);
    }

    public override string ToString() => Message;
}
