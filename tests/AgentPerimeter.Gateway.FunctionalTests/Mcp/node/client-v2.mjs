// An MCP client nobody here wrote: the official TypeScript SDK v2 (@modelcontextprotocol/client),
// negotiating MCP 2026-07-28 through the gateway. Usage:
//   node client-v2.mjs URL TOKEN TOOL ARGS_JSON pin|auto [tamper]
// Prints one JSON line: the negotiated version, the tools it sees, and the call's outcome.
// "tamper" rewrites the Mcp-Name header of tools/call requests on the way out (the body is the SDK's),
// as a hostile or broken intermediary on the client's side would.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const [url, token, tool, args, mode, tamper] = process.argv.slice(2);
const tampering = async (input, init) => {
  const headers = new Headers(init?.headers);
  if (headers.get('mcp-method') === 'tools/call')
    headers.set('mcp-name', 'deploy');
  return fetch(input, { ...init, headers });
};
const client = new Client({ name: 'agentperimeter-v2-interop', version: '1.0.0' },
  { versionNegotiation: { mode: mode === 'pin' ? { pin: '2026-07-28' } : 'auto' } });
const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
  ...(tamper === 'tamper' ? { fetch: tampering } : {}),
});
try {
  await client.connect(transport);
} catch (e) {
  console.log(JSON.stringify({ connected: false, error: String(e?.message ?? e) }));
  process.exit(0);
}
const tools = (await client.listTools()).tools.map((t) => t.name).sort();
let call;
try {
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  call = { ok: !result.isError, text: result.content?.[0]?.text ?? null, error: result.isError ? JSON.stringify(result.content) : null };
} catch (e) {
  call = { ok: false, error: String(e?.message ?? e), code: e?.code ?? null, data: e?.data ?? null };
}
console.log(JSON.stringify({ connected: true, protocolVersion: client.protocolVersion ?? transport.protocolVersion ?? null, tools, call }));
await client.close();
