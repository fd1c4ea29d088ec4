using OpenTelemetry.Trace;

namespace AgentPerimeter.Gateway.Hosting;

/// <summary>Creates the OTLP tracer provider at startup (so the first spans are exported) and flushes it when the gateway stops.</summary>
internal sealed class TracingLifetime(TracerProvider provider) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        provider.ForceFlush(5000);
        return Task.CompletedTask;
    }
}
