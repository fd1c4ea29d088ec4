// An MCP server nobody here wrote: the official TypeScript SDK v2 (@modelcontextprotocol/server),
// serving MCP 2026-07-28 (and 2025-era clients through its stateless fallback) over HTTP on a free
// loopback port. Tools: search_docs, read_file, deploy. Prints "listening on PORT", then a line
// "called TOOL" for every tool call it runs, so a test can see what reached it.
// Usage: node server-v2.mjs
import { createServer } from "node:http";
import { McpServer, createMcpHandler, fromJsonSchema } from "@modelcontextprotocol/server";

const text = (value) => ({ content: [{ type: "text", text: value }] });
const schema = (properties) => fromJsonSchema({ type: "object", properties, additionalProperties: false });

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: "ts-v2-server", version: "1.0.0" });
  server.registerTool("search_docs", { description: "Search the documentation.", inputSchema: schema({ text: { type: "string" } }) }, async ({ text: q }) => {
    console.log("called search_docs");
    return text(`search_docs ran with text=${q}`);
  });
  server.registerTool("read_file", { description: "Read a file.", inputSchema: schema({ path: { type: "string" } }) }, async ({ path }) => {
    console.log("called read_file");
    return text(`read ${path}`);
  });
  server.registerTool("deploy", { description: "Deploy a build.", inputSchema: schema({ env: { type: "string" } }) }, async ({ env }) => {
    console.log("called deploy");
    return text(`deployed to ${env}`);
  });
  return server;
});

// node:http to the handler's web-standard face.
const http = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
    else if (value !== undefined) headers.set(name, value);
  }
  const body = chunks.length > 0 && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
  const response = await handler.fetch(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body }));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body) {
    for await (const chunk of response.body) res.write(chunk);
  }
  res.end();
});
http.listen(0, "127.0.0.1", () => console.log(`listening on ${http.address().port}`));
