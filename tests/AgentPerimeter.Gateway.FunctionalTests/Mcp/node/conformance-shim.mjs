// Preloaded (node --import) into the official MCP conformance CLI, which runs unchanged. When it tests
// a server through the gateway, every request it sends carries the agent's session token
// (MCP_BEARER_TOKEN), as a real agent's would; conformance-hooks.mjs covers the requests it sends
// without fetch, and Node.js 20's missing fs.globSync.
import { register } from 'node:module';
register('./conformance-hooks.mjs', import.meta.url);
const token = process.env.MCP_BEARER_TOKEN;
if (token) {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init = {}) => {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.has('authorization'))
      headers.set('authorization', `Bearer ${token}`);
    return original(input, { ...init, headers });
  };
}
