// Loader hooks for the official MCP conformance CLI, registered by conformance-shim.mjs. They change
// how the suite is wired, never what it checks:
// - Node.js 20 lacks fs.globSync, which the CLI imports only to summarise result folders: that one
//   import gets a small stand-in (node20-globsync.mjs); on Node.js 22+ it is left alone.
// - The few requests the suite sends with undici's request() rather than fetch (the DNS-rebinding
//   scenario) go through conformance-undici.mjs, which adds the agent's session token like the
//   fetch wrapper does for the rest.
const here = (file) => JSON.stringify(new URL(file, import.meta.url).href);
export async function load(url, context, next) {
  const result = await next(url, context);
  if (!url.includes('@modelcontextprotocol/conformance/dist/') || !result.source)
    return result;
  let src = result.source.toString().replace(/^#!.*\n/, '');
  const fs = await import('node:fs');
  if (!('globSync' in fs)) {
    let name = null;
    src = src.replace(/globSync as ([A-Za-z_$][\w$]*),/, (m, n) => { name = n; return ''; });
    if (name)
      src = `import { globSyncPolyfill as ${name} } from ${here('./node20-globsync.mjs')};` + src;
  }
  src = src.replace(/import\{request as ([A-Za-z_$][\w$]*)\}from"undici"/, (m, n) => `import{request as ${n}}from${here('./conformance-undici.mjs')}`);
  return { ...result, source: src };
}
