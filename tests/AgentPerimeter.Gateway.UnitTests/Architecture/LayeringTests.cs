using System.Reflection;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Xunit;

namespace AgentPerimeter.Gateway.UnitTests.Architecture;

/// <summary>
/// The gateway's folders are layers (docs/architecture.md): the action core imports no other folder,
/// and some folders must not know others. Read from the compiled IL, so a fully qualified name, a
/// lambda or a generic argument cannot hide a dependency the way it can from a text search.
/// </summary>
public sealed class LayeringTests
{
    private const string Root = "AgentPerimeter.Gateway.";

    private static readonly Lazy<Dictionary<string, HashSet<string>>> Graph = new(BuildGraph);

    [Fact]
    public void ActionCore_ImportsNoOtherFolder()
    {
        var edges = Graph.Value.GetValueOrDefault("Actions") ?? [];
        Assert.True(edges.Count == 0, $"Actions/ (the core) must import no other gateway folder; it imports: {string.Join(", ", edges.Order())}");
    }

    [Theory]
    [InlineData("Policy", "Secrets")]
    [InlineData("Policy", "Audit")]
    [InlineData("Policy", "Hosting")]
    [InlineData("Policy", "RateLimiting")]
    [InlineData("Identity", "Mcp")]
    [InlineData("Identity", "OAuth")]
    [InlineData("OAuth", "Mcp")]
    [InlineData("OAuth", "Proxy")]
    [InlineData("Audit", "Policy")]
    [InlineData("Audit", "Mcp")]
    [InlineData("Proxy", "Tunnels")]
    [InlineData("Idempotency", "Tunnels")]
    [InlineData("Approvals", "Tunnels")]
    [InlineData("Idempotency", "Mcp")]
    [InlineData("Approvals", "Idempotency")]
    [InlineData("Approvals", "Mcp")]
    [InlineData("Egress", "Hosting")]
    [InlineData("Egress", "Audit")]
    [InlineData("Egress", "Mcp")]
    [InlineData("Egress", "Proxy")]
    [InlineData("Egress", "Tunnels")]
    public void Folder_DoesNotImport_ForbiddenFolder(string from, string forbidden)
    {
        Assert.True(Graph.Value.ContainsKey(from), $"no types found in folder {from}/");
        var edges = Graph.Value[from];
        Assert.False(edges.Contains(forbidden), $"{from}/ must not import {forbidden}/ (it imports: {string.Join(", ", edges.Order())})");
    }

    [Fact]
    public void OnlyHostingAndAdmin_ImportTheHostingFolder()
    {
        var offenders = Graph.Value.Where(kv => kv.Key is not ("Hosting" or "Admin") && kv.Value.Contains("Hosting")).Select(kv => kv.Key).Order().ToList();
        Assert.True(offenders.Count == 0, $"features must not import Hosting/ (it wires them): {string.Join(", ", offenders)}");
    }

    [Theory]
    [InlineData("agentperimeter-connector")]
    [InlineData("agentperimeter-harness")]
    [InlineData("perimeter")]
    public void OtherProcesses_DoNotReferenceTheGatewayAssembly(string assemblyName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        Assert.True(File.Exists(path), $"{path} not found next to the tests");
        using var module = ModuleDefinition.ReadModule(path);
        Assert.DoesNotContain(module.AssemblyReferences, r => r.Name == "AgentPerimeter.Gateway");
    }

    [Fact]
    public void TheCheck_SeesADependencyHiddenInALambda()
    {
        // A test that cannot fail proves nothing: Hosting wires every feature, so its edges must include them.
        var hosting = Graph.Value["Hosting"];
        Assert.Contains("Policy", hosting);
        Assert.Contains("Mcp", hosting);
        Assert.Contains("Actions", hosting);
    }

    private static Dictionary<string, HashSet<string>> BuildGraph()
    {
        var location = typeof(AgentPerimeter.Gateway.Hosting.PerimeterApp).Assembly.Location;
        using var module = ModuleDefinition.ReadModule(location);
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            var folder = FolderOf(Outermost(type).Namespace);
            if (folder is null)
                continue;
            var edges = graph.TryGetValue(folder, out var e) ? e : graph[folder] = [];
            foreach (var referenced in References(type))
            {
                if (FolderOf(referenced) is { } to && to != folder)
                    edges.Add(to);
            }
        }
        return graph;
    }

    private static TypeDefinition Outermost(TypeDefinition type)
    {
        while (type.DeclaringType is not null)
            type = type.DeclaringType;
        return type;
    }

    private static string? FolderOf(string? ns)
    {
        if (ns is null || !ns.StartsWith(Root, StringComparison.Ordinal))
            return null;
        var rest = ns[Root.Length..];
        int dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private static IEnumerable<string?> References(TypeDefinition type)
    {
        var found = new List<string?>();
        void AddType(TypeReference? t)
        {
            while (t is not null)
            {
                switch (t)
                {
                    case GenericInstanceType g:
                        foreach (var a in g.GenericArguments)
                            AddType(a);
                        t = g.ElementType;
                        continue;
                    case TypeSpecification spec:
                        t = spec.ElementType;
                        continue;
                    case GenericParameter:
                        return;
                }
                var outer = t;
                while (outer.DeclaringType is not null)
                    outer = outer.DeclaringType;
                found.Add(outer.Namespace);
                return;
            }
        }
        void AddAttributes(Mono.Collections.Generic.Collection<CustomAttribute> attributes)
        {
            foreach (var a in attributes)
                AddType(a.AttributeType);
        }

        AddType(type.BaseType);
        foreach (var i in type.Interfaces)
            AddType(i.InterfaceType);
        AddAttributes(type.CustomAttributes);
        foreach (var f in type.Fields)
            AddType(f.FieldType);
        foreach (var p in type.Properties)
            AddType(p.PropertyType);
        foreach (var m in type.Methods)
        {
            AddType(m.ReturnType);
            AddAttributes(m.CustomAttributes);
            foreach (var p in m.Parameters)
                AddType(p.ParameterType);
            if (!m.HasBody)
                continue;
            foreach (var v in m.Body.Variables)
                AddType(v.VariableType);
            foreach (var instruction in m.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference t:
                        AddType(t);
                        break;
                    case MethodReference mr:
                        AddType(mr.DeclaringType);
                        AddType(mr.ReturnType);
                        if (mr is GenericInstanceMethod gm)
                            foreach (var a in gm.GenericArguments)
                                AddType(a);
                        break;
                    case FieldReference fr:
                        AddType(fr.DeclaringType);
                        AddType(fr.FieldType);
                        break;
                }
            }
        }
        return found;
    }
}
