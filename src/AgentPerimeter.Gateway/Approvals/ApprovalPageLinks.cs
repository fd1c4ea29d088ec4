namespace AgentPerimeter.Gateway.Approvals;

/// <summary>
/// Where the approval page of a held call is, as the people deciding reach it:
/// <c>Gateway:Approvals:PageUrl</c>, else the admin listener's own address (known once it is bound).
/// </summary>
public sealed class ApprovalPageLinks(Func<string?> baseUrl)
{
    public const string PathPrefix = "/approvals/";

    /// <summary>The page of approval <paramref name="id"/>, or null when there is no address to give.</summary>
    public string? For(string id) =>
        baseUrl() is { Length: > 0 } b ? b.TrimEnd('/') + PathPrefix + Uri.EscapeDataString(id) : null;
}
