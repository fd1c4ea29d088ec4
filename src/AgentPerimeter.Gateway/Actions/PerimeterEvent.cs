namespace AgentPerimeter.Gateway.Actions;

/// <summary>
/// A record that is not an action: <c>kind</c> (e.g. <c>tunnel</c>), <c>event</c> and fields in the
/// order given (strings, numbers or null). Strings are scrubbed of secret values when written.
/// </summary>
public sealed record PerimeterEvent(string Kind, string Event, IReadOnlyList<KeyValuePair<string, object?>> Fields);
