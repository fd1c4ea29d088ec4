// Validates Kubernetes manifests (a multi-document YAML on stdin, e.g. `kubectl kustomize` output)
// against the Kubernetes and Prometheus Operator JSON schemas (kubernetes-models). Prints one JSON
// line per document ({kind, name, ok, error}) and exits 1 if any is invalid or of an unknown kind.
import { parseAllDocuments } from 'yaml';

const input = await new Promise((resolve) => { let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => resolve(s)); });
let failed = false;
for (const doc of parseAllDocuments(input)) {
  const obj = doc.toJSON();
  if (!obj) continue;
  // kustomize writes long base64 values as wrapped literal blocks; the API server's decoder skips the
  // line breaks, the schema's "byte" format does not: compare like the API server.
  if (obj.kind === 'Secret' && obj.data)
    for (const k of Object.keys(obj.data)) obj.data[k] = obj.data[k].replace(/\s+/g, '');
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const module = group === 'monitoring.coreos.com'
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${obj.kind}`
    : `kubernetes-models/${group ? group + '/' : ''}${version}/${obj.kind}`;
  let result = { kind: obj.kind, name: obj.metadata?.name, ok: true };
  try {
    const model = await import(module);
    const Model = model[obj.kind] ?? model.default;
    new Model(obj).validate();
  } catch (e) {
    result = { ...result, ok: false, error: String(e?.message ?? e).slice(0, 2000) };
    failed = true;
  }
  console.log(JSON.stringify(result));
}
process.exit(failed ? 1 : 0);
