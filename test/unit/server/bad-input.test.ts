// Issue 17: hostile and malformed input through the real HTTPS API (in-process server, no components):
// every answer a 4xx Kubernetes Status naming what was wrong, never a 500, never stored.

import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { defaultConfig } from '../../../src/config.js';
import { startServer, type RunningServer } from '../../../src/main/server.js';
import { HttpClient } from '../../../src/client/http-client.js';
import { loadConnection } from '../../../src/client/kubeconfig.js';
import { R } from '../../../src/api/resources.js';
import type { ConfigMap, Deployment, Pod } from '../../../src/api/types.js';
import { silentLogger } from '../../../src/util/log.js';

let server: RunningServer;
let client: HttpClient;
let dataDir: string;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-badinput-'));
  server = await startServer(defaultConfig({ dataDir, apiPort: 0 }), [], silentLogger());
  client = new HttpClient(loadConnection(server.kubeconfigPath));
});

test.after.always(async () => {
  client?.close();
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: { kind?: string; message?: string; reason?: string; code?: number; details?: { causes?: { field?: string; message?: string }[] } };
  text: string;
}

async function call(method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await client.raw(method, p, body, headers);
  let parsed: Answer['body'] = {};
  try {
    parsed = JSON.parse(r.body);
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed, text: r.body };
}

/** A 4xx Status with this code whose message (or a cause) mentions every `mentions`. */
function refused(t: ExecutionContext, a: Answer, code: number, ...mentions: (string | RegExp)[]): void {
  t.is(a.status, code, a.text.slice(0, 300));
  t.is(a.body.kind, 'Status', a.text.slice(0, 300));
  t.is(a.body.code, code);
  const all = [a.body.message ?? '', ...(a.body.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`)].join('\n');
  t.false(/Maximum call stack|is not iterable|URI malformed|Internal error/.test(all), all);
  for (const m of mentions) t.true(typeof m === 'string' ? all.includes(m) : m.test(all), `${m} in: ${all.slice(0, 400)}`);
}

async function stored(res: typeof R.configmaps, name: string, ns = 'default'): Promise<boolean> {
  return (await server.store.get(res, ns, name)) !== undefined;
}

function nestedJson(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

function cm(name: string, extra: Record<string, unknown> = {}): ConfigMap & Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, ...extra };
}

function deployment(name: string, replicas: unknown = 1): Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas: replicas as number, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'kubelite/echo:1' }] } } },
  };
}

// ---------------------------------------------------------------- 6. nesting depth

test('deeply nested JSON bodies are a 400 at the parser (10k and 1M levels), never a stack overflow', async (t) => {
  for (const depth of [1001, 10_000, 100_000]) {
    const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-${depth}"},"x":${nestedJson(depth)}}`;
    refused(t, await call('POST', '/api/v1/namespaces/default/configmaps', body), 400, 'exceeded max depth');
    t.false(await stored(R.configmaps, `deep-${depth}`));
  }
  // A million levels of arrays (2 MB, under the body limit).
  const arrays = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-arr"},"x":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`;
  refused(t, await call('POST', '/api/v1/namespaces/default/configmaps', arrays), 400, 'deeper than 1000 levels');
});

test('JSON nested right up to the limit is handled without a 500 (pruned as an unknown field)', async (t) => {
  const body = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-ok"},"x":${nestedJson(990)}}`;
  const a = await call('POST', '/api/v1/namespaces/default/configmaps', body);
  t.is(a.status, 201, a.text.slice(0, 300));
  const got = await client.get<ConfigMap & { x?: unknown }>(R.configmaps, 'default', 'deep-ok');
  t.is(got.x, undefined);
  // And as a merge patch, a strategic merge patch and a JSON patch value of the same depth.
  for (const [type, patch] of [
    ['application/merge-patch+json', `{"data":{"k":"v"},"x":${nestedJson(990)}}`],
    ['application/strategic-merge-patch+json', `{"data":{"k":"w"},"x":${nestedJson(990)}}`],
    ['application/json-patch+json', `[{"op":"add","path":"/metadata/labels","value":{"l":"1"}},{"op":"add","path":"/x","value":${nestedJson(990)}}]`],
  ]) {
    const r = await call('PATCH', '/api/v1/namespaces/default/configmaps/deep-ok', patch, { 'Content-Type': type });
    t.true(r.status < 500, `${type}: ${r.status} ${r.text.slice(0, 200)}`);
  }
});

test('every patch type refuses deep nesting with a 400: merge, strategic, JSON patch, apply (YAML)', async (t) => {
  await client.create(R.configmaps, cm('patch-target', { data: { a: '1' } }));
  const deep = nestedJson(50_000);
  for (const [type, body] of [
    ['application/merge-patch+json', `{"data":${deep}}`],
    ['application/strategic-merge-patch+json', `{"data":${deep}}`],
    ['application/json-patch+json', `[{"op":"add","path":"/data/b","value":${deep}}]`],
    ['application/apply-patch+yaml', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"patch-target"},"data":${deep}}`],
  ]) {
    refused(t, await call('PATCH', '/api/v1/namespaces/default/configmaps/patch-target?fieldManager=t', body, { 'Content-Type': type }), 400, /deeper than \d+ levels/);
  }
  // Block-style YAML nests by indentation: refused with the line it crossed the limit on.
  let yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: patch-target\nx:\n';
  for (let i = 1; i <= 600; i++) yaml += `${' '.repeat(i * 2)}a:\n`;
  refused(t, await call('PATCH', '/api/v1/namespaces/default/configmaps/patch-target?fieldManager=t', yaml, { 'Content-Type': 'application/apply-patch+yaml' }), 400, /deeper than 500 levels at line \d+/);
  const after = await client.get<ConfigMap>(R.configmaps, 'default', 'patch-target');
  t.deepEqual(after.data, { a: '1' });
});

test('a last-applied annotation nested 40,000 levels deep does not break server-side apply', async (t) => {
  // The record of manager "t", as server-side apply reads it back.
  const annotation = `{"t":{"data":${nestedJson(40_000, '"x"')}}}`;
  await client.create(R.configmaps, { ...cm('deep-annotation'), metadata: { name: 'deep-annotation', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': annotation } } });
  const r = await call('PATCH', '/api/v1/namespaces/default/configmaps/deep-annotation?fieldManager=t', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'deep-annotation' }, data: { a: '1' } }, { 'Content-Type': 'application/apply-patch+yaml' });
  t.true(r.status < 500, r.text.slice(0, 300));
});

// ---------------------------------------------------------------- 7. paths, types, exec

test('malformed percent-encoding and bad UTF-8 in the path are a 400', async (t) => {
  for (const p of ['/api/v1/namespaces/%zz/configmaps', '/api/v1/namespaces/default/configmaps/%E0%A4%A', '/api/v1/namespaces/default/configmaps/%ff%fe', '/api/v1/namespaces/default/pods/%C3%28']) {
    refused(t, await call('GET', p), 400, 'malformed percent-encoding');
  }
});

test('`..` and %2e%2e path segments address nothing: 404', async (t) => {
  for (const p of ['/api/v1/namespaces/%2e%2e/configmaps', '/api/v1/namespaces/%2E%2E/pods', '/api/v1/namespaces/default/configmaps/%2e%2e', '/api/v1/namespaces/./configmaps', '/apis/apps/v1/namespaces/%2e%2e/deployments']) {
    refused(t, await call('GET', p), 404);
  }
});

test('spec.containers as an object is a 422 naming the field, not a 500', async (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'objcontainers', namespace: 'default' }, spec: { containers: { name: 'c', image: 'x' } } };
  refused(t, await call('POST', '/api/v1/namespaces/default/pods', pod), 422, 'spec.containers', 'must be of type array');
  t.false(await stored(R.pods, 'objcontainers'));
  // The same through a Deployment's template, a PUT and a merge patch.
  const d = deployment('objtemplate') as unknown as Record<string, any>;
  d.spec.template.spec.containers = { name: 'c' };
  refused(t, await call('POST', '/apis/apps/v1/namespaces/default/deployments', d), 422, 'spec.template.spec.containers');
  await client.create(R.deployments, deployment('typed'));
  refused(t, await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/typed', { spec: { template: { spec: { containers: 'x' } } } }, { 'Content-Type': 'application/merge-patch+json' }), 422, 'spec.template.spec.containers');
  refused(t, await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: 'x' }), 422, 'metadata');
  refused(t, await call('PUT', '/api/v1/namespaces/default/configmaps/x', { apiVersion: 'v1', kind: 'ConfigMap', metadata: ['x'] }), 422, 'metadata');
});

test('a plain POST to pods/NAME/exec (or attach, portforward) is a 400 "Upgrade request required", 404 for a missing Pod', async (t) => {
  refused(t, await call('POST', '/api/v1/namespaces/default/pods/nosuch/exec?command=ls&stdout=true'), 404, 'not found');
  await client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'execme', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } } as Pod);
  for (const sub of ['exec', 'attach', 'portforward']) {
    refused(t, await call('POST', `/api/v1/namespaces/default/pods/execme/${sub}?command=ls&stdout=true`), 400, 'Upgrade request required');
    refused(t, await call('GET', `/api/v1/namespaces/default/pods/execme/${sub}`), 400, 'Upgrade request required');
  }
});

// ---------------------------------------------------------------- 8. what Kubernetes rejects

test('int32 fields: replicas 1e12 is a 422 with the path, by POST, PUT, every patch and the scale subresource', async (t) => {
  refused(t, await call('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('huge', 1e12)), 422, 'spec.replicas', '32-bit integer');
  t.false(await stored(R.deployments, 'huge'));
  await client.create(R.deployments, deployment('scalable'));
  for (const [type, body] of [
    ['application/merge-patch+json', { spec: { replicas: 1e12 } }],
    ['application/strategic-merge-patch+json', { spec: { replicas: 2 ** 31 } }],
    ['application/json-patch+json', [{ op: 'replace', path: '/spec/replicas', value: -(2 ** 31) - 1 }]],
  ] as const) {
    refused(t, await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/scalable', body, { 'Content-Type': type }), 422, 'spec.replicas');
  }
  refused(t, await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/scalable/scale', { spec: { replicas: 1e12 } }, { 'Content-Type': 'application/merge-patch+json' }), 422, 'spec.replicas');
  const live = await client.get<Deployment>(R.deployments, 'default', 'scalable');
  refused(t, await call('PUT', '/apis/apps/v1/namespaces/default/deployments/scalable', { ...live, spec: { ...live.spec, replicas: 1e12 } }), 422, 'spec.replicas');
  t.is((await client.get<Deployment>(R.deployments, 'default', 'scalable')).spec.replicas, 1);
  // Other int32 fields, anywhere in a schema.
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bigport', namespace: 'default' }, spec: { ports: [{ port: 2 ** 40 }] } };
  refused(t, await call('POST', '/api/v1/namespaces/default/services', svc), 422, 'spec.ports[0].port');
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x', readinessProbe: { periodSeconds: 1e10, exec: { command: ['true'] } } }] } };
  refused(t, await call('POST', '/api/v1/namespaces/default/pods', pod), 422, 'spec.containers[0].readinessProbe.periodSeconds');
});

test('stringData with a non-string value is a 422 naming the key', async (t) => {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sd', namespace: 'default' }, stringData: { password: 12345 } };
  refused(t, await call('POST', '/api/v1/namespaces/default/secrets', secret), 422, 'stringData[password]', 'must be of type string');
  t.false(await stored(R.secrets, 'sd'));
});

test('watch parameters: garbage resourceVersion is a 400 "Invalid value", garbage timeoutSeconds a 400 (no hang), bad selectors a 400', async (t) => {
  refused(t, await call('GET', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=abc'), 400, 'resourceVersion', 'Invalid value');
  refused(t, await call('GET', '/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=soon'), 400, 'timeoutSeconds');
  refused(t, await call('GET', '/api/v1/watch/namespaces/default/configmaps?timeoutSeconds=1.5'), 400, 'timeoutSeconds');
  refused(t, await call('GET', '/api/v1/namespaces/default/configmaps?watch=true&labelSelector=a%20in%20(('), 400);
  refused(t, await call('GET', '/api/v1/namespaces/default/configmaps?resourceVersion=-1'), 400, 'Invalid value');
  refused(t, await call('DELETE', '/api/v1/namespaces/default/configmaps/x?gracePeriodSeconds=abc'), 400, 'gracePeriodSeconds');
});

test('a status PUT with garbage is a 4xx and stores nothing', async (t) => {
  const d = await client.create<Deployment>(R.deployments, deployment('statusgarbage'));
  for (const body of ['"garbage"', '[1,2]', JSON.stringify({ ...d, status: 'garbage' }), JSON.stringify({ ...d, status: { replicas: 'many' } }), JSON.stringify({ ...d, status: { replicas: 1e12 } }), JSON.stringify({ ...d, metadata: 'x' })]) {
    const a = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/statusgarbage/status', body);
    t.true(a.status >= 400 && a.status < 500, `${body.slice(0, 60)}: ${a.status} ${a.text.slice(0, 200)}`);
    t.is(a.body.kind, 'Status');
  }
  const after = await client.get<Deployment>(R.deployments, 'default', 'statusgarbage');
  t.is(after.metadata.resourceVersion, d.metadata.resourceVersion);
});

test('too many query parameters: 431 with a Status body (over the parser limit and over 1,000 parameters)', async (t) => {
  refused(t, await call('GET', `/api/v1/namespaces/default/configmaps?${'a=1&'.repeat(1200)}b=2`), 431, 'too many query parameters');
  // Past Node's 16 KiB header limit the parser refuses before express: still a Status.
  const raw = await rawRequest(`GET /api/v1/namespaces/default/configmaps?${'abcdefgh=1&'.repeat(3000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\n\r\n`);
  t.regex(raw, /^HTTP\/1\.1 431 /);
  const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
  t.is(body.kind, 'Status');
  t.is(body.code, 431);
});

function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: server.port, ca: server.caPem, servername: 'localhost' }, () => sock.write(text));
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
  });
}

// ---------------------------------------------------------------- 11. unconditional patches never conflict

test('a merge PATCH without resourceVersion never answers 409 while the object keeps changing', async (t) => {
  await client.create(R.configmaps, cm('hot', { data: { n: '0' } }));
  let stop = false;
  // A busy writer updating the object through the registry (as a controller would), as fast as it can.
  const writer = (async () => {
    let i = 0;
    while (!stop) {
      const cur = await server.registry.get<ConfigMap>(R.configmaps, 'default', 'hot');
      cur.data = { ...cur.data, n: String(++i) };
      await server.registry.update(R.configmaps, cur).catch(() => undefined);
    }
  })();
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => call('PATCH', '/api/v1/namespaces/default/configmaps/hot', { data: { [`p${i}`]: 'x' } }, { 'Content-Type': 'application/merge-patch+json' })),
  );
  stop = true;
  await writer;
  t.deepEqual(results.map((r) => r.status).filter((s) => s !== 200), []);
  const final = await client.get<ConfigMap>(R.configmaps, 'default', 'hot');
  for (let i = 0; i < 40; i++) t.is(final.data?.[`p${i}`], 'x', `patch ${i} applied`);
  // A patch that names a stale resourceVersion is still a precondition: 409.
  refused(t, await call('PATCH', '/api/v1/namespaces/default/configmaps/hot', { metadata: { resourceVersion: '1' }, data: { z: 'z' } }, { 'Content-Type': 'application/merge-patch+json' }), 409);
});

// ---------------------------------------------------------------- found by bench/bad-input.ts

test('a YAML alias inside its own anchor (a cycle) is a 400, not a 500', async (t) => {
  refused(t, await call('POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cyc}\nx: &a [*a]\n', { 'Content-Type': 'application/yaml' }), 400, 'cycle');
  t.false(await stored(R.configmaps, 'cyc'));
});

test('a namespace in the path that no namespace can be named is a 400, not an empty list', async (t) => {
  for (const ns of ['a%20b', 'A_B', '%24(touch%20x)', 'x'.repeat(64)]) refused(t, await call('GET', `/api/v1/namespaces/${ns}/pods`), 400, 'invalid namespace');
  const ok = await call('GET', '/api/v1/namespaces/no-such-ns/pods');
  t.is(ok.status, 200);
});

test('an oversized body gets its 413 Status (the rest of the body is read and dropped, not reset)', async (t) => {
  const big = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"${'x'.repeat(4 * 1024 * 1024)}"}}`;
  for (let i = 0; i < 2; i++) refused(t, await call('POST', '/api/v1/namespaces/default/configmaps', big), 413, 'larger than');
  t.false(await stored(R.configmaps, 'big'));
});
