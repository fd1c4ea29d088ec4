namespace AgentPerimeter.Gateway.Actions;

/// <summary>HTTP feature carrying the <see cref="ActionContext"/>.</summary>
public interface IActionFeature
{
    ActionContext Action { get; }
}
