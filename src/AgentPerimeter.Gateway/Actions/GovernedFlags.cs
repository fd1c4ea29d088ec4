namespace AgentPerimeter.Gateway.Actions;

/// <summary>The three axes of "governed": an enforcing rule decided, the record is durable, no agent credential went upstream.</summary>
public readonly record struct GovernedFlags(bool Policy, bool Audit, bool Secrets)
{
    public bool All => Policy && Audit && Secrets;
}
