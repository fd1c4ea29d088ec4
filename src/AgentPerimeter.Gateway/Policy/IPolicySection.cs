namespace AgentPerimeter.Gateway.Policy;

/// <summary>A compiled part of the policy snapshot that another feature owns (secrets, rate limits).</summary>
public interface IPolicySection<TSelf> where TSelf : class, IPolicySection<TSelf>
{
    /// <summary>The section when the policy has none of it.</summary>
    static abstract TSelf Empty { get; }
}
