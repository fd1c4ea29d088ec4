using Microsoft.Extensions.Options;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>
/// Startup validation of the hosting part of <c>Gateway</c>: listeners, TLS, the inbound listener,
/// the admin token, Redis, logging and the body limit. Features validate their own sections.
/// </summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    private static bool IsLoopback(Uri uri) =>
        uri.Host is "localhost" || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));

    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = new List<string>();
        var listeners = new (string Key, string? Url)[]
        {
            ("Agent", options.Listeners.Agent), ("Admin", options.Listeners.Admin),
            ("Tunnel", options.Listeners.Tunnel), ("Inbound", options.Listeners.Inbound), ("Egress", options.Listeners.Egress),
        };
        foreach (var (key, url) in listeners)
        {
            if (url is not null)
                CheckUrl(url, $"Gateway:Listeners:{key}", errors);
        }
        foreach (var group in listeners.Where(l => l.Url is not null && !l.Url.EndsWith(":0", StringComparison.Ordinal)).GroupBy(l => l.Url))
        {
            if (group.Count() > 1)
                errors.Add($"Gateway:Listeners: {string.Join(" and ", group.Select(l => l.Key))} share '{group.Key}'; each listener needs its own address, so no caller reaches another listener's endpoints.");
        }
        if (options.Listeners.Tunnel is { } tunnelUrl && tunnelUrl.StartsWith("http:", StringComparison.OrdinalIgnoreCase)
            && Uri.TryCreate(tunnelUrl, UriKind.Absolute, out var tunnelUri) && !(tunnelUri.IsLoopback || tunnelUri.Host == "localhost"))
            errors.Add($"Gateway:Listeners:Tunnel: '{tunnelUrl}' would carry connector credentials and private traffic in clear text; use https:// (with Gateway:Tls) or a loopback address.");
        CheckTls(options, listeners, errors);
        CheckInbound(options, errors);
        if (options.MaxRequestBodyBytes <= 0)
            errors.Add("Gateway:MaxRequestBodyBytes: must be a positive number of bytes (default 10485760).");
        if (options.ShutdownDrainDelay < TimeSpan.Zero || options.ShutdownDrainDelay > TimeSpan.FromMinutes(5))
            errors.Add("Gateway:ShutdownDrainDelay: must be between 00:00:00 and 00:05:00 (default 0).");
        if (options.ShutdownTimeout <= TimeSpan.Zero)
            errors.Add("Gateway:ShutdownTimeout: must be a positive time span such as 00:00:30 (default).");
        if (options.UpstreamActivityTimeout <= TimeSpan.Zero)
            errors.Add("Gateway:UpstreamActivityTimeout: must be a positive time span such as 00:10:00 (default 10 minutes).");
        if (options.MaxInspectedMessageBytes < 64 * 1024)
            errors.Add("Gateway:MaxInspectedMessageBytes: must be at least 65536 bytes (default 16777216).");
        // The admin API mints session tokens: reachable from other hosts, it needs the operators' token.
        if (options.Admin.TokenFile is null && !options.Admin.AllowUnauthenticated && options.Listeners.Admin is { } adminUrl
            && Uri.TryCreate(adminUrl, UriKind.Absolute, out var adminUri) && !IsLoopback(adminUri))
            errors.Add($"Gateway:Listeners:Admin: '{adminUrl}' can be reached from other hosts, and the admin API (which mints session tokens) would answer anyone: "
                + "set Gateway:Admin:TokenFile to a file holding the operators' token (openssl rand -hex 32 > admin-token), bind the admin listener to 127.0.0.1, "
                + "or — only on a network private by other means — set Gateway:Admin:AllowUnauthenticated to true.");
        for (int i = 0; i < options.Identity.VerificationKeyPaths.Count; i++)
        {
            var keyPath = options.ResolveDataPath(options.Identity.VerificationKeyPaths[i]);
            if (!File.Exists(keyPath))
                errors.Add($"Gateway:Identity:VerificationKeyPaths:{i}: '{keyPath}' does not exist (a PEM key whose tokens this gateway should accept).");
        }
        if (options.Admin.TokenFile is { } tokenFile)
        {
            var path = options.ResolveDataPath(tokenFile);
            if (!File.Exists(path) || File.ReadAllText(path).Trim().Length < 16)
                errors.Add($"Gateway:Admin:TokenFile: '{path}' must exist and hold a token of at least 16 characters (e.g. openssl rand -hex 32 > {path}).");
        }
        if (options.Redis.TimeoutMilliseconds is < 1 or > 10_000)
            errors.Add("Gateway:Redis:TimeoutMilliseconds: must be between 1 and 10000 (default 250).");
        if (!Enum.TryParse<Serilog.Events.LogEventLevel>(options.Logging.MinimumLevel, ignoreCase: true, out _))
            errors.Add($"Gateway:Logging:MinimumLevel: '{options.Logging.MinimumLevel}' is not a level. Use Verbose, Debug, Information, Warning, Error or Fatal.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckUrl(string url, string key, List<string> errors)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || uri.Port < 0
            || !(uri.Host is "localhost" or "0.0.0.0" || System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out _)))
            errors.Add($"{key}: '{url}' is not a listener address. Use http://IP:PORT or https://IP:PORT (an IP address, 0.0.0.0 or localhost), e.g. http://127.0.0.1:8080 (port 0 picks a free port).");
    }

    private static void CheckTls(GatewayOptions options, (string Key, string? Url)[] listeners, List<string> errors)
    {
        var https = listeners.Where(l => l.Url?.StartsWith("https:", StringComparison.OrdinalIgnoreCase) == true).Select(l => l.Key).ToList();
        if (https.Count == 0)
            return;
        var tls = options.Tls;
        if (string.IsNullOrWhiteSpace(tls.Certificate) || string.IsNullOrWhiteSpace(tls.Key))
        {
            errors.Add($"Gateway:Tls: the {string.Join(", ", https)} listener(s) use https, so set Gateway:Tls:Certificate and Gateway:Tls:Key (PEM files).");
            return;
        }
        try
        {
            using var certificate = ListenerCertificates.LoadServerCertificate(options);
            if (!certificate.HasPrivateKey)
                errors.Add("Gateway:Tls:Key: the key does not belong to the certificate.");
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException or UnauthorizedAccessException)
        {
            errors.Add($"Gateway:Tls: the certificate '{options.ResolveConfigPath(tls.Certificate)}' with key '{options.ResolveConfigPath(tls.Key)}' cannot be loaded ({ex.GetType().Name}: {ex.Message}).");
        }
    }

    private static void CheckInbound(GatewayOptions options, List<string> errors)
    {
        var inbound = options.Inbound;
        if (options.Listeners.Inbound is null)
            return;
        if (!options.Listeners.Inbound.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
            errors.Add("Gateway:Listeners:Inbound: the inbound listener terminates mutual TLS, so it must be https://IP:PORT.");
        if (string.IsNullOrWhiteSpace(inbound.ClientCertificateAuthority))
            errors.Add("Gateway:Inbound:ClientCertificateAuthority: name the PEM file of the CA whose client certificates the inbound listener accepts.");
        else
        {
            var path = options.ResolveConfigPath(inbound.ClientCertificateAuthority);
            try
            {
                var collection = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
                collection.ImportFromPemFile(path);
                if (collection.Count == 0)
                    errors.Add($"Gateway:Inbound:ClientCertificateAuthority: '{path}' holds no certificate.");
            }
            catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
            {
                errors.Add($"Gateway:Inbound:ClientCertificateAuthority: '{path}' cannot be read as PEM certificates ({ex.GetType().Name}).");
            }
        }
        if (string.IsNullOrWhiteSpace(inbound.Domain) || Uri.CheckHostName(inbound.Domain.Trim('.')) != UriHostNameType.Dns)
            errors.Add("Gateway:Inbound:Domain: set the tunnel domain; requests must be for <server>.<domain>, e.g. \"mcp.example.com\".");
        if (inbound.Servers.Count == 0)
            errors.Add("Gateway:Inbound:Servers: list the server names served, e.g. [ \"crm\" ] for crm.<domain>.");
        foreach (var server in inbound.Servers)
        {
            if (!Tunnels.TunnelCatalog.NamePattern().IsMatch(server ?? ""))
                errors.Add($"Gateway:Inbound:Servers: '{server}' is not a DNS label (lower-case letters, digits and '-').");
        }
    }
}
