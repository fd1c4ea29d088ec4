using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace AgentPerimeter.Benchmarks;

/// <summary>
/// The egress targets' HTTPS server, in the benchmark process: Kestrel on 127.0.0.1 (HTTP/1.1 over TLS) with a
/// self-signed certificate for <see cref="EgressBench.Host"/>, made for this run. <c>GET /download</c> answers
/// <see cref="EgressBench.DownloadBytes"/> random bytes, <c>GET /small</c> a short text. Clients trust exactly this
/// certificate (<see cref="Validate"/>), and still require its name to match.
/// </summary>
internal sealed class EgressOrigin : IAsyncDisposable
{
    /// <summary>The body of <c>GET /small</c>.</summary>
    public static readonly byte[] SmallBody = "egress origin ok\n"u8.ToArray();

    private readonly X509Certificate2 _certificate;
    private WebApplication? _app;
    private long _downloads, _smalls;

    private EgressOrigin(X509Certificate2 certificate) => _certificate = certificate;

    public int Port { get; private set; }

    /// <summary>The origin by name: <c>https://localhost:PORT/</c>.</summary>
    public Uri Uri => new($"https://{EgressBench.Host}:{Port}/");

    /// <summary>Full downloads the origin finished writing.</summary>
    public long Downloads => Interlocked.Read(ref _downloads);

    /// <summary>Answers to <c>GET /small</c>.</summary>
    public long Smalls => Interlocked.Read(ref _smalls);

    public static async Task<EgressOrigin> StartAsync(CancellationToken ct)
    {
        var origin = new EgressOrigin(CreateCertificate());
        try
        {
            await origin.StartCoreAsync(ct).ConfigureAwait(false);
            return origin;
        }
        catch
        {
            await origin.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartCoreAsync(CancellationToken ct)
    {
        var body = new byte[EgressBench.DownloadBytes];
        RandomNumberGenerator.Fill(body);
        _app = Servers.NewBuilder(listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.UseHttps(_certificate);
        }).Build();
        _app.MapGet(EgressBench.DownloadPath, async context =>
        {
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
            Interlocked.Increment(ref _downloads);
        });
        _app.MapGet(EgressBench.SmallPath, context =>
        {
            Interlocked.Increment(ref _smalls);
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = SmallBody.Length;
            return context.Response.Body.WriteAsync(SmallBody, context.RequestAborted).AsTask();
        });
        await _app.StartAsync(ct).ConfigureAwait(false);
        Port = Servers.BoundUri(_app).Port;
    }

    /// <summary>
    /// The client's certificate check: the certificate must be this origin's, and the only error allowed is the one a
    /// self-signed certificate always has (no trusted chain); a name mismatch still fails.
    /// </summary>
    public bool Validate(X509Certificate? certificate, SslPolicyErrors errors) =>
        certificate is not null
        && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
        && certificate.GetCertHashString(HashAlgorithmName.SHA256) == _certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>TLS client options for this origin: the SNI and expected name <see cref="EgressBench.Host"/>, trusting this certificate.</summary>
    public SslClientAuthenticationOptions ClientOptions() => new()
    {
        TargetHost = EgressBench.Host,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) => Validate(certificate, errors),
    };

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_app is not null)
                await _app.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            if (_app is not null)
                await _app.DisposeAsync().ConfigureAwait(false);
            _certificate.Dispose();
        }
    }

    /// <summary>A P-256 certificate for <see cref="EgressBench.Host"/> (subject and DNS name), server authentication, valid for a day either way.</summary>
    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={EgressBench.Host}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(EgressBench.Host);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        // Through PKCS#12 so the private key is one Kestrel's TLS can use on every platform.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }
}
