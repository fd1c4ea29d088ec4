namespace AgentPerimeter.Gateway.Policy;

/// <summary>The files the running configuration comes from (full paths): checked as files on every reload.</summary>
public sealed record ConfigFiles(string Directory, string Routes, string Policy);
