using AgentPerimeter.DemoUpstream;

var app = DemoUpstreamApp.Build(args);
await app.RunAsync();
