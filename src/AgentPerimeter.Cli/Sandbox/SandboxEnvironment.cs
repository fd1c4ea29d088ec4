namespace AgentPerimeter.Cli.Sandbox;

/// <summary>
/// What the sandboxed command's environment changes: every common proxy variable names the relay inside
/// the namespace with the session's credentials (<c>http://AGENT:TOKEN@127.0.0.1:PORT</c>, each part
/// URL-encoded; clients send it as <c>Proxy-Authorization: Basic …</c>), <c>NO_PROXY</c> is emptied (an
/// inherited "localhost,127.0.0.1" would send loopback requests nowhere), and, with a CA bundle, every
/// common trust-store variable points at it. The operator's own credentials are removed: the agent gets
/// its session token and nothing that could mint or revoke one.
/// </summary>
internal static class SandboxEnvironment
{
    /// <summary>Read by this CLI only: never passed on to the command.</summary>
    private static readonly string[] OperatorVariables = ["PERIMETER_TOKEN", "PERIMETER_ADMIN_TOKEN"];

    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];

    private static readonly string[] NoProxyVariables = ["NO_PROXY", "no_proxy"];

    /// <summary>OpenSSL (and Python's ssl, Go), Node, Python requests, curl, git.</summary>
    private static readonly string[] TrustVariables = ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"];

    /// <summary>The proxy URL the command is given; it holds the token, so it goes into the environment and nowhere else.</summary>
    public static string ProxyUrl(string agent, string token, int port) =>
        $"http://{Uri.EscapeDataString(agent)}:{Uri.EscapeDataString(token)}@127.0.0.1:{port}";

    /// <summary>Applies the sandbox's variables to the environment a child process will start with.</summary>
    public static void Apply(IDictionary<string, string?> environment, string proxyUrl, string? caBundle)
    {
        foreach (var name in OperatorVariables)
            environment.Remove(name);
        foreach (var name in ProxyVariables)
            environment[name] = proxyUrl;
        foreach (var name in NoProxyVariables)
            environment[name] = "";
        if (caBundle is not null)
        {
            foreach (var name in TrustVariables)
                environment[name] = caBundle;
        }
    }
}
