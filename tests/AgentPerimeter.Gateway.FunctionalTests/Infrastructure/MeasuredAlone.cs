namespace AgentPerimeter.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// Tests whose assertion is about timing under their own load (a burst that must all be answered within the
/// default Redis timeout, on a 2-core machine): they run after the parallel tests, one at a time, so other
/// test classes' processes do not starve them — the product's defaults are measured, not the test runner's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredAlone
{
    public const string Name = "Measured alone";
}
