namespace AgentPerimeter.Gateway.Actions;

internal sealed class ActionFeature(ActionContext action) : IActionFeature
{
    public ActionContext Action { get; } = action;
}
