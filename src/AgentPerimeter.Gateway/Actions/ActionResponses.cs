using System.Text;
namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// How a stage answers an agent itself. <see cref="RefuseAsync"/> decides the action (a refusal is the
/// decision); <see cref="FailAsync"/> records an outcome of an action already decided. Both write
/// through the action's <see cref="ActionContext.RefusalWriter"/>, so each protocol gets its own shape.
/// </summary>
public static class ActionResponses
{
    public const string ActionIdHeader = AgentPerimeter.Protocol.PerimeterHeaders.ActionId;

    /// <summary>Caller-chosen text made safe to echo in a message or a record: no control characters, capped.</summary>
    public static string Printable(string value, int max) => new(value.Where(c => !char.IsControl(c)).Take(max).ToArray());

    /// <summary>
    /// Text shown to a person deciding (the approval page, an elicitation message) with every invisible
    /// character made visible: controls and format characters (bidirectional overrides, zero-width joiners,
    /// a BOM), line and paragraph separators, as <c>\u{XXXX}</c> — so a right-to-left override in a tool argument
    /// cannot make the call read as another. Newlines and tabs stay (arguments are shown pretty-printed).
    /// </summary>
    public static string Visible(string value)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            var category = char.GetUnicodeCategory(c);
            bool hidden = c is not ('\n' or '\t') && (char.IsControl(c) || category is System.Globalization.UnicodeCategory.Format
                or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator);
            if (hidden)
            {
                sb ??= new StringBuilder(value, 0, i, value.Length + 16);
                sb.Append("\\u{").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)).Append('}');
            }
            else
            {
                sb?.Append(c);
            }
        }
        return sb?.ToString() ?? value;
    }

    /// <summary>Decides the action as <paramref name="decision"/> and answers with it.</summary>
    public static Task RefuseAsync(HttpContext context, int status, PolicyDecision decision, string? message = null)
    {
        var action = context.GetAction();
        action.Decide(decision);
        return action.RefusalWriter.WriteAsync(context, action, new Refusal(status, decision.Code, message ?? decision.Reason ?? decision.Code));
    }

    /// <summary>
    /// Records what happened after the decision and answers with it. An action no stage had decided yet
    /// (a stage failed, or a check could not be made before the last deciding stage) is decided by what
    /// was proposed for it, or refused as unavailable.
    /// </summary>
    public static Task FailAsync(HttpContext context, int status, ActionOutcome outcome, string? message = null)
    {
        var action = context.GetAction();
        action.Conclude(outcome);
        return action.RefusalWriter.WriteAsync(context, action, new Refusal(status, outcome.Code, message ?? outcome.Reason ?? outcome.Code));
    }
}
