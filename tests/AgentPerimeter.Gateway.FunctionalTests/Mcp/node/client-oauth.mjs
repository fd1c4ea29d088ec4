// Gets a token the way an off-the-shelf MCP client does — the official TypeScript SDK's own OAuth
// client-credentials support: a 401 names the protected resource metadata, which names the
// authorization server, whose metadata names the token endpoint — then lists tools and calls one.
// Usage: node client-oauth.mjs URL secret|jwt CLIENT_ID SECRET_OR_KEY_FILE SCOPE TOOL ARGS_JSON
//   → prints one JSON line: { tools, call } or { connectError }.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider, PrivateKeyJwtProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";

const [url, mode, clientId, credential, scope, tool, args] = process.argv.slice(2);
const authProvider = mode === "jwt"
  ? new PrivateKeyJwtProvider({ clientId, privateKey: readFileSync(credential, "utf8"), algorithm: "RS256", scope })
  : new ClientCredentialsProvider({ clientId, clientSecret: credential, scope });
const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider });
const client = new Client({ name: "oauth-interop-test", version: "1.0.0" });
try {
  await client.connect(transport);
} catch (e) {
  console.log(JSON.stringify({ connectError: String(e.message ?? e) }));
  process.exit(0);
}
const tools = (await client.listTools()).tools.map((t) => t.name);
let call;
try {
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  call = { ok: true, text: result.content.map((c) => c.text).join("") };
} catch (e) {
  call = { ok: false, error: String(e.message ?? e) };
}
console.log(JSON.stringify({ tools, call, token: (authProvider.tokens() ?? {}).scope }));
await client.close();
