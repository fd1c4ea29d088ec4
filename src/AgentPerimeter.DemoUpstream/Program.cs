using AgentPerimeter.DemoUpstream;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.Out.Write($"""
        agentperimeter-demo-upstream: the demo's private system — an HTTP API under /api and an MCP server at
        /mcp (official MCP C# SDK) — meant to be reached only through the gateway.

        usage: AgentPerimeter.DemoUpstream [--urls URL]

          --urls URL   where to listen (default {DemoUpstreamApp.DefaultUrl})
          --help       this text

        Environment: DEMO_CUSTOMERS_API_KEY, the key /api/customers expects (the gateway injects it).

        """);
    return 0;
}

var app = DemoUpstreamApp.Build(args);
await app.RunAsync();
return 0;
