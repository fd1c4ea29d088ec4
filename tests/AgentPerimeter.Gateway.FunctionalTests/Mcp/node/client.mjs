// Lists tools and calls one through the gateway with the official TypeScript MCP SDK client.
// Usage: node client.mjs URL TOKEN TOOL ARGS_JSON   → prints one JSON line with the results.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, token, tool, args] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "interop-test", version: "1.0.0" });
await client.connect(transport);
const tools = (await client.listTools()).tools.map((t) => t.name);
let call;
try {
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  call = { ok: true, text: result.content.map((c) => c.text).join("") };
} catch (e) {
  call = { ok: false, error: String(e.message ?? e) };
}
console.log(JSON.stringify({ tools, call }));
await client.close();
