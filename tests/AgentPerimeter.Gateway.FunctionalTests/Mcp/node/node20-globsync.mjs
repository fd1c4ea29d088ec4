import fs from 'node:fs';
import path from 'node:path';
// Enough of fs.globSync for the pattern the conformance CLI uses ("**/<file name>").
export function globSyncPolyfill(pattern, opts = {}) {
  const cwd = opts.cwd || process.cwd();
  const base = pattern.replace(/^\*\*\//, '');
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(path.join(cwd, d), { withFileTypes: true })) {
      const r = d ? path.join(d, e.name) : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.name === base) out.push(r);
    }
  };
  if (fs.existsSync(cwd)) walk('');
  return out;
}
