namespace AgentPerimeter.Benchmarks;

/// <summary>The names of the load, upload and download targets, as the log and the report show them.</summary>
internal static class TargetNames
{
    public const string Upstream = "upstream (direct, reference)";
    public const string Yarp = "bare YARP";
    public const string Gateway = "gateway";
    public const string WriteDurability = "gateway, write durability";
    public const string LimitsMemory = "gateway, in-memory limits";
    public const string LimitsRedis = "gateway, Redis limits";
    public const string McpDirect = "MCP server (direct, reference)";
    public const string McpRaw = "gateway, uninspected (/raw/mcp)";
    public const string McpInspected = "gateway, MCP inspection (/inspected/mcp)";
    public const string McpTunnel = "gateway, MCP inspection, through the tunnel (/tunnel/mcp)";
    public const string UploadServer = "MCP server /upload (direct, reference)";
    public const string UploadDirect = "gateway, direct (/direct/upload)";
    public const string UploadTunnel = "gateway, through the tunnel (/tunnel/upload)";
    public const string DownloadDirect = "HTTPS origin (direct, reference)";
    public const string DownloadTunnel = "HTTPS origin through an egress tunnel (CONNECT)";
}
