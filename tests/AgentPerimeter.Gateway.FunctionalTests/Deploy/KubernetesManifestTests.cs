using AgentPerimeter.Testing;

namespace AgentPerimeter.Gateway.FunctionalTests.Deploy;

/// <summary>
/// <c>deploy/kubernetes</c>: rendered by kustomize (<c>kubectl kustomize</c>) and every object
/// validated against the Kubernetes and Prometheus Operator schemas (kubernetes-models); no cluster
/// runs here. The rendered fleet has what operators rely on, its alert rules are the shipped ones, and
/// its configuration passes the gateway's own check.
/// </summary>
public sealed class KubernetesManifestTests
{
    private static string Root => TestPaths.RepoRoot();
    private static string NodeDir => Path.Combine(Root, "tests", "AgentPerimeter.Gateway.FunctionalTests", "Deploy", "node");

    [Fact]
    public async Task TheManifests_RenderWithKustomize_AndEveryObjectIsValid()
    {
        Assert.True(Directory.Exists(Path.Combine(NodeDir, "node_modules", "kubernetes-models")), "run tests/run.sh (it runs 'npm ci' in " + NodeDir + ")");
        using var render = ChildProcess.StartExecutable("kubectl", ["kustomize", Path.Combine(Root, "deploy", "kubernetes")], Root);
        Assert.True(await render.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, render.Output);
        var rendered = render.Output;
        var file = Path.Combine(Directory.CreateTempSubdirectory("perimeter-k8s-").FullName, "rendered.yaml");
        File.WriteAllText(file, rendered);

        using var validate = ChildProcess.StartExecutable("bash", ["-c", $"node validate.mjs < '{file}'"], NodeDir);
        var exit = await validate.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exit == 0, validate.Output);
        foreach (var kind in new[] { "Deployment", "PodDisruptionBudget", "NetworkPolicy", "ServiceMonitor", "PrometheusRule", "ConfigMap", "Secret", "Service" })
            Assert.Contains($"\"kind\":\"{kind}\",", validate.Output);
        Assert.Contains("replicas: 3", rendered);
        // Services for every listener people reach: agents, sandboxes' egress, connectors' tunnels, operators.
        foreach (var service in new[] { "name: agentperimeter\n", "name: agentperimeter-egress", "name: agentperimeter-tunnel", "name: agentperimeter-admin" })
            Assert.Contains(service, rendered);
        Assert.Contains("path: /readyz", rendered);
        Assert.Contains("path: /healthz", rendered);
        // The grace period covers the drain delay (10 s) and the shutdown timeout (30 s).
        Assert.Contains("terminationGracePeriodSeconds: 45", rendered);
        Assert.Contains("value: \"00:00:10\"", rendered);
        Assert.Contains("value: \"00:00:30\"", rendered);
    }

    [Fact]
    public void ThePrometheusRule_HoldsExactlyTheShippedAlerts()
    {
        var alerts = File.ReadAllLines(Path.Combine(Root, "dashboards", "alerts.yml"));
        var groups = alerts.SkipWhile(l => !l.StartsWith("groups:", StringComparison.Ordinal)).Select(l => l.Length == 0 ? l : "  " + l);
        var rule = File.ReadAllLines(Path.Combine(Root, "deploy", "kubernetes", "prometheusrule.yaml"));
        var spec = rule.SkipWhile(l => l != "spec:").Skip(1);
        Assert.Equal(string.Join("\n", groups).TrimEnd(), string.Join("\n", spec).TrimEnd());
    }

    [Fact]
    public async Task TheConfiguration_PassesTheGatewaysCheck()
    {
        using var check = ChildProcess.Start(ChildProcess.ProductDll("AgentPerimeter.Gateway", "AgentPerimeter.Gateway"),
            ["--check", "--config-dir", Path.Combine(Root, "deploy", "kubernetes", "config")]);
        Assert.True(await check.WaitForExitAsync(TimeSpan.FromSeconds(60)) == 0, check.Output);
    }
}
