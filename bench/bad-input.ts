// Issue 17: a corpus of malformed and hostile inputs through the API (HTTPS) and the CLI — deep nesting,
// bad encodings, wrong types, out-of-range integers, injection strings in names, paths and labels,
// oversized bodies, bad query parameters — against a real server (the built binary). Every HTTP answer
// must be a 4xx Kubernetes Status (no 5xx, no non-Status body), every CLI run must fail with a message
// (no stack trace, no engine message), and nothing may be stored. Exits 1 if any input breaks a rule.
// With `--before DIR` the same corpus runs first against another checkout's build (DIR/dist).
//   npm run build && node --import tsx bench/bad-input.ts [--before DIR]

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RESOURCES } from '../src/api/resources.js';
import { isQualifiedName, isValidLabelValue } from '../src/api/names.js';
import { INGRESS_PATH_RE } from '../src/api/validation/ingress.js';
import { ROOT, startBenchServer, writeSection, type BenchServer } from './lib.js';

interface HttpCase {
  category: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
}

interface CliCase {
  category: string;
  args: string[];
  file?: string;
}

const NS = '/api/v1/namespaces/default';
const APPS = '/apis/apps/v1/namespaces/default';
const nest = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const cm = (name: string, extra = '') => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":${JSON.stringify(name)}}${extra}}`;
const pod = (name: string, spec: unknown, meta: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec });
const deploy = (name: string, replicas: unknown, tmplSpec: unknown = { containers: [{ name: 'c', image: 'x' }] }) =>
  JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: tmplSpec } } });
const svc = (name: string, spec: unknown) => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const ingress = (name: string, p: string, pathType = 'Prefix') =>
  JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name }, spec: { rules: [{ host: 'h.test', http: { paths: [{ path: p, pathType, backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } });

const INJECTIONS = ['$(touch /tmp/pwned)', '`id`', 'a;rm -rf /', '../../etc/passwd', 'a\nb', 'a\r\nSet-Cookie: x=1', 'a b', 'A_B', 'é', '\u0000', '%2e%2e', 'x'.repeat(300), '-leading', 'trailing-', '<script>', "' OR 1=1 --", '{{.}}', '${jndi:ldap://x}'];

function httpCorpus(): HttpCase[] {
  const c: HttpCase[] = [];
  const add = (category: string, method: string, p: string, body?: string | Buffer, contentType?: string) => c.push({ category, method, path: p, body, contentType });
  // ---- deep nesting: bodies and every patch type
  for (const d of [1001, 10_000, 100_000]) {
    add('deep nesting', 'POST', `${NS}/configmaps`, cm(`deep-${d}`, `,"x":${nest(d)}`));
    add('deep nesting', 'POST', `${APPS}/deployments`, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"deep-${d}"},"spec":${nest(d)}}`);
    add('deep nesting', 'PUT', `${NS}/configmaps/deep-${d}`, cm(`deep-${d}`, `,"x":${nest(d)}`));
    for (const t of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) add('deep nesting', 'PATCH', `${NS}/configmaps/kube-root?fieldManager=b`, `{"data":${nest(d)}}`, t);
    add('deep nesting', 'PATCH', `${NS}/configmaps/any`, `[{"op":"add","path":"/data","value":${nest(d)}}]`, 'application/json-patch+json');
    add('deep nesting', 'PATCH', `${NS}/configmaps/deep-apply-${d}?fieldManager=b`, cm(`deep-apply-${d}`, `,"data":${nest(d)}`), 'application/apply-patch+yaml');
  }
  add('deep nesting', 'POST', `${NS}/configmaps`, cm('deep-1m', `,"x":${arrays(1_000_000)}`));
  let yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep-yaml\nx:\n';
  for (let i = 1; i <= 2000; i++) yaml += `${' '.repeat(i)}a:\n`;
  add('deep nesting', 'POST', `${NS}/configmaps`, yaml, 'application/yaml');
  add('deep nesting', 'PATCH', `${NS}/configmaps/deep-yaml?fieldManager=b`, yaml, 'application/apply-patch+yaml');
  add('deep nesting', 'POST', `${NS}/configmaps`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flow}\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'application/yaml');

  // ---- bad encodings
  for (const body of ['{', '{"a":', '{"apiVersion":"v1",}', 'null', '"str"', '[1,2]', '42', 'true', '\ufeff{"kind":"ConfigMap"}', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\ud800"}}']) add('bad encoding', 'POST', `${NS}/configmaps`, body);
  add('bad encoding', 'POST', `${NS}/configmaps`, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
  add('bad encoding', 'POST', `${NS}/configmaps`, Buffer.from('k8s\x00\x0a\x03garbage', 'binary'), 'application/vnd.kubernetes.protobuf');
  add('bad encoding', 'POST', `${NS}/configmaps`, Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'application/vnd.kubernetes.protobuf');
  add('bad encoding', 'POST', `${NS}/configmaps`, 'a: [unclosed', 'application/yaml');
  add('bad encoding', 'POST', `${NS}/configmaps`, 'a: &a [*a, *a]\nb: *a\n', 'application/yaml');
  add('bad encoding', 'POST', `${NS}/configmaps`, `a: &a ["x"]\n${Array.from({ length: 9 }, (_, i) => `b${i}: &b${i} [${Array(10).fill(i ? `*b${i - 1}` : '*a').join(',')}]`).join('\n')}\n`, 'application/yaml');
  add('bad encoding', 'POST', `${NS}/configmaps`, '<configmap/>', 'application/xml');
  add('bad encoding', 'PATCH', `${NS}/configmaps/x`, '{}', 'application/apply-patch+cbor');
  add('bad encoding', 'PATCH', `${NS}/configmaps/x`, '{"op":"add"}', 'application/json-patch+json');
  add('bad encoding', 'PATCH', `${NS}/configmaps/x`, '[{"op":"explode","path":"/a"}]', 'application/json-patch+json');

  // ---- wrong types
  const wrong: [string, string][] = [
    ['pods', pod('t1', { containers: { name: 'c', image: 'x' } })],
    ['pods', pod('t2', { containers: 'c' })],
    ['pods', pod('t3', { containers: [{ name: 'c', image: 'x', ports: 'eighty' }] })],
    ['pods', pod('t4', { containers: [{ name: 'c', image: 'x', env: { A: 'b' } }] })],
    ['pods', pod('t5', { containers: [{ name: 'c', image: ['x'] }] })],
    ['pods', pod('t6', 'spec')],
    ['pods', pod('t7', { containers: [{ name: 'c', image: 'x' }] }, { labels: ['a'] })],
    ['pods', pod('t8', { containers: [{ name: 'c', image: 'x' }] }, { labels: { a: 1 } })],
    ['pods', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: 'x' })],
    ['pods', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: [] })],
    ['pods', pod('t9', { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: { a: 1 } } } }] })],
    ['configmaps', cm('t10', ',"data":{"a":1}')],
    ['configmaps', cm('t11', ',"data":["a"]')],
    ['configmaps', cm('t12', ',"binaryData":{"a":"not base64!"}')],
    ['secrets', '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"t13"},"stringData":{"a":12345}}'],
    ['secrets', '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"t14"},"data":{"a":"***"}}'],
    ['services', svc('t15', { ports: 'http' })],
    ['services', svc('t16', { ports: [{ port: '80' }] })],
    ['services', svc('t17', { type: 'Loadbalancer', ports: [{ port: 80 }] })],
    ['services', svc('t18', { selector: 'app=web', ports: [{ port: 80 }] })],
  ];
  for (const [plural, body] of wrong) add('wrong types', 'POST', `${NS}/${plural}`, body);
  for (const body of [deploy('t19', 'three'), deploy('t20', { n: 1 }), deploy('t21', 1, { containers: { name: 'c' } }), deploy('t22', 1, 'spec'), deploy('t23', null, { containers: [{ name: 'c', image: 'x', command: 'sh -c' }] })]) add('wrong types', 'POST', `${APPS}/deployments`, body);

  // ---- out-of-range integers
  for (const r of [1e12, 2 ** 31, -1, -(2 ** 31) - 1, 1.5, 1e308]) add('out-of-range int', 'POST', `${APPS}/deployments`, deploy(`r${String(r).replace(/[^0-9]/g, '')}`, r));
  for (const p of [0, 70000, -80, 2 ** 40]) add('out-of-range int', 'POST', `${NS}/services`, svc(`p${Math.abs(p) % 100000}`, { ports: [{ port: p }] }));
  add('out-of-range int', 'POST', `${NS}/services`, svc('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 99999 }] }));
  add('out-of-range int', 'POST', `${NS}/pods`, pod('probe', { containers: [{ name: 'c', image: 'x', readinessProbe: { periodSeconds: 1e10, exec: { command: ['true'] } } }] }));
  add('out-of-range int', 'POST', `${NS}/pods`, pod('grace', { terminationGracePeriodSeconds: 1e20, containers: [{ name: 'c', image: 'x' }] }));
  add('out-of-range int', 'POST', `${NS}/pods`, pod('cport', { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 65536 }] }] }));
  add('out-of-range int', 'PATCH', `${APPS}/deployments/none/scale`, '{"spec":{"replicas":1e12}}', 'application/merge-patch+json');

  // ---- injection strings in names, namespaces, labels, annotations, paths
  for (const s of INJECTIONS) {
    add('injection', 'POST', `${NS}/configmaps`, cm(s));
    add('injection', 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: s } }));
    // (Some of these are fine label keys or values, `A_B` for one: only the invalid ones are hostile there.)
    if (isQualifiedName(s).length) add('injection', 'POST', `${NS}/configmaps`, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lbl', labels: { [s]: 'v' } } }));
    if (isValidLabelValue(s).length) add('injection', 'POST', `${NS}/configmaps`, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lbl2', labels: { k: s } } }));
    add('injection', 'GET', `${NS}/configmaps/${encodeURIComponent(s)}`);
    add('injection', 'GET', `/api/v1/namespaces/${encodeURIComponent(s)}/pods`);
    if (!INGRESS_PATH_RE.test(`/${s}`)) add('injection', 'POST', `/apis/networking.k8s.io/v1/namespaces/default/ingresses`, ingress('evil', `/${s}`));
  }
  for (const p of ['/x y', '/a\nb', '/a\r\nadd map x y', '/a;del map x', '/a#b', "/a'b", '/a\\b', '/a<<', 'relative', '/a//b', '/a/..']) {
    // Kubernetes' '//' and '/..' rules are for Exact and Prefix only (ImplementationSpecific may hold them).
    const types = p === '/a//b' || p === '/a/..' ? ['Prefix', 'Exact'] : ['Prefix', 'Exact', 'ImplementationSpecific'];
    for (const t of types) add('injection', 'POST', `/apis/networking.k8s.io/v1/namespaces/default/ingresses`, ingress('evil', p, t));
  }
  add('injection', 'POST', `${NS}/services`, svc('capture', { externalIPs: ['198.51.100.8'], ports: [{ port: 80 }] }));
  add('injection', 'POST', `${NS}/configmaps`, JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big-ann', annotations: { a: 'x'.repeat(300_000) } } }));
  for (const p of ['/api/v1/namespaces/%zz/pods', `${NS}/pods/%ff%fe`, `${NS}/pods/%C3%28`, '/api/v1/namespaces/%2e%2e/configmaps', '/api/v1/namespaces/./pods', `${NS}/configmaps/%2e%2e`, '/apis/%zz/v1', `${NS}/pods/x/%2e%2e/exec`]) add('injection', 'GET', p);
  add('injection', 'POST', `${NS}/pods/nosuch/exec?command=sh`);
  add('injection', 'POST', `${NS}/pods/nosuch/attach`);

  // ---- oversized bodies
  add('oversized', 'POST', `${NS}/configmaps`, cm('huge', `,"data":{"a":"${'x'.repeat(4 * 1024 * 1024)}"}`));
  add('oversized', 'POST', `${NS}/configmaps`, cm('toobig', `,"data":{"a":"${'x'.repeat(1024 * 1024 + 10)}"}`));
  add('oversized', 'PATCH', `${NS}/configmaps/x`, `{"data":{"a":"${'x'.repeat(4 * 1024 * 1024)}"}}`, 'application/merge-patch+json');

  // ---- bad query parameters
  const q = ['watch=yes', 'watch=2', 'allowWatchBookmarks=maybe', 'pretty=sure', 'watch=true&timeoutSeconds=soon', 'watch=true&timeoutSeconds=-1', 'watch=true&timeoutSeconds=1.5', 'watch=true&resourceVersion=abc', 'resourceVersion=-1', 'resourceVersion=99999999999999999999', 'limit=-1', 'limit=abc', 'labelSelector=a%20in%20((', 'labelSelector=%3D%3D%3D', 'fieldSelector=spec.bogus%3D1', 'fieldSelector=metadata.name', `${'a=1&'.repeat(1200)}b=2`, 'watch=true&labelSelector=!!!'];
  for (const s of q) add('bad query', 'GET', `${NS}/configmaps?${s}`);
  for (const s of ['fieldValidation=Bogus', 'dryRun=Maybe', 'force=perhaps']) add('bad query', 'POST', `${NS}/configmaps?${s}`, cm('q'));
  for (const s of ['propagationPolicy=Sideways', 'gracePeriodSeconds=-5', 'gracePeriodSeconds=abc']) add('bad query', 'DELETE', `${NS}/configmaps/x?${s}`);
  return c;
}

function cliCorpus(dir: string): CliCase[] {
  const f = (name: string, text: string | Buffer) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  let deepYaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\nx:\n';
  for (let i = 1; i <= 3000; i++) deepYaml += `${' '.repeat(i)}a:\n`;
  const c: CliCase[] = [
    { category: 'deep nesting', args: ['apply', '-f', f('deep.yaml', deepYaml)] },
    { category: 'deep nesting', args: ['apply', '-f', f('deep.json', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d"},"x":${nest(100_000)}}`)] },
    { category: 'deep nesting', args: ['apply', '-f', f('flow.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\nx: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`)] },
    { category: 'bad encoding', args: ['apply', '-f', f('garbage.yaml', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x5b]))] },
    { category: 'bad encoding', args: ['apply', '-f', f('broken.json', '{"apiVersion":')] },
    { category: 'bad encoding', args: ['apply', '-f', f('bomb.yaml', `a: &a ["x"]\n${Array.from({ length: 9 }, (_, i) => `b${i}: &b${i} [${Array(10).fill(i ? `*b${i - 1}` : '*a').join(',')}]`).join('\n')}\n`)] },
    { category: 'wrong types', args: ['apply', '-f', f('types.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: {name: c, image: x}\n')] },
    { category: 'out-of-range int', args: ['apply', '-f', f('replicas.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: r}\nspec:\n  replicas: 1000000000000\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: x}]}\n')] },
    { category: 'wrong types', args: ['apply', '-f', f('unknown.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n')] },
  ];
  // (A command line cannot carry a NUL byte: those inputs are HTTP-only.)
  for (const s of INJECTIONS.filter((x) => !x.includes('\u0000')).slice(0, 10)) {
    c.push({ category: 'injection', args: ['get', 'pods', '-n', s] });
    c.push({ category: 'injection', args: ['get', 'configmap', s] });
  }
  c.push({ category: 'injection', args: ['delete', 'pod', '$(touch /tmp/pwned)'] });
  c.push({ category: 'injection', args: ['logs', '../../x'] });
  c.push({ category: 'injection', args: ['scale', 'deploy/a;b', '--replicas=1'] });
  c.push({ category: 'out-of-range int', args: ['scale', 'deploy/x', '--replicas=1000000000000'] });
  return c;
}

async function countObjects(s: BenchServer): Promise<number> {
  let n = 0;
  for (const r of RESOURCES) {
    if (!r.verbs.includes('list')) continue;
    // A server that stored something it cannot serve back may never answer: that is a failure too.
    const list = await Promise.race([s.client.list(r).catch(() => undefined), new Promise<undefined>((res) => setTimeout(res, 20_000))]);
    if (!list) throw new Error(`listing ${r.plural} failed after the corpus`);
    n += list.items.length;
  }
  return n;
}

function runCli(root: string, kubeconfig: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.join(root, 'bin/kubelite'), ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: -2, out: `${out} (no exit within 30 s)` });
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
    child.on('error', (err) => resolve({ code: -1, out: `${out}${err.message}` }));
  });
}

interface Outcome {
  httpN: number;
  cliN: number;
  fivexx: number;
  stored: number;
  problems: string[];
  seconds: number;
  byCategory: Map<string, { n: number; codes: Map<number, number> }>;
}

async function runCorpus(root: string): Promise<Outcome> {
  const s = await startBenchServer(['--disable', 'agent,scheduler,controllers,proxy,dns,ingress'], { instance: 'b54', root });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-badinput-'));
  const problems: string[] = [];
  const byCategory = new Map<string, { n: number; codes: Map<number, number> }>();
  const tally = (category: string, code: number) => {
    const e = byCategory.get(category) ?? { n: 0, codes: new Map() };
    e.n++;
    e.codes.set(code, (e.codes.get(code) ?? 0) + 1);
    byCategory.set(category, e);
  };
  let httpN = 0;
  let cliN = 0;
  let fivexx = 0;
  const t0 = performance.now();
  try {
    fs.rmSync('/tmp/pwned', { force: true });
    const before = await countObjects(s);
    for (const c of httpCorpus()) {
      httpN++;
      if (process.env.BAD_INPUT_TRACE) process.stderr.write(`${c.method} ${c.path.slice(0, 100)}\n`);
      const headers: Record<string, string> = {};
      if (c.contentType) headers['Content-Type'] = c.contentType;
      let status = 0;
      let body = '';
      try {
        const r = await s.client.raw(c.method, c.path, c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body.toString('latin1') : c.body, headers);
        status = r.status;
        body = r.body;
      } catch (err) {
        // Node refuses to send a request line with control characters: that input never reaches a server.
        if (/Request path contains unescaped characters|Invalid character/.test((err as Error).message)) {
          httpN--;
          continue;
        }
        tally(c.category, 0);
        problems.push(`${c.method} ${c.path.slice(0, 80)}: ${(err as Error).message}`);
        continue;
      }
      tally(c.category, status);
      if (status >= 500) fivexx++;
      let st: { kind?: string; message?: string } = {};
      try {
        st = JSON.parse(body);
      } catch {
        /* checked below */
      }
      if (status < 400 || status >= 500 || st.kind !== 'Status') problems.push(`${c.category}: ${c.method} ${c.path.slice(0, 80)} -> ${status} ${body.slice(0, 160)}`);
      else if (/Maximum call stack|is not iterable|URI malformed|Internal error/.test(st.message ?? '')) problems.push(`${c.category}: ${c.method} ${c.path.slice(0, 60)}: ${st.message}`);
    }
    for (const c of cliCorpus(tmp)) {
      cliN++;
      if (process.env.BAD_INPUT_TRACE) process.stderr.write(`kubelite ${c.args.join(' ').slice(0, 100)}\n`);
      const r = await runCli(root, s.kubeconfig, c.args);
      tally(`CLI: ${c.category}`, r.code === 0 ? 0 : 1);
      if (r.code === 0) problems.push(`CLI ${c.args.join(' ').slice(0, 80)}: exit 0: ${r.out.slice(0, 160)}`);
      if (/Maximum call stack|\n\s+at |TypeError|RangeError/.test(r.out)) problems.push(`CLI ${c.args.join(' ').slice(0, 80)}: ${r.out.slice(0, 200)}`);
    }
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) {
      problems.unshift(`the server process died during the corpus (${s.proc.signalCode ?? `exit ${s.proc.exitCode}`}); every input after that was refused by a dead server`);
      return { httpN, cliN, fivexx, stored: NaN, problems, seconds: (performance.now() - t0) / 1000, byCategory };
    }
    let stored: number;
    try {
      stored = (await countObjects(s)) - before;
    } catch (err) {
      problems.push((err as Error).message);
      stored = NaN;
    }
    if (stored !== 0) problems.push(`${stored} objects were stored`);
    if (fs.existsSync('/tmp/pwned')) problems.push('an injection string ran a command (/tmp/pwned exists)');
    return { httpN, cliN, fivexx, stored, problems, seconds: (performance.now() - t0) / 1000, byCategory };
  } finally {
    await s.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(s.dataDir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
const beforeAt = args.indexOf('--before');
const BEFORE = beforeAt >= 0 ? args[beforeAt + 1] : undefined;
const summary = (label: string, o: Outcome) =>
  `| ${label} | ${o.httpN + o.cliN} | ${o.httpN} | ${o.cliN} | **${o.fivexx}** | **${Number.isNaN(o.stored) ? 'not checked: the server died' : o.stored}** | **${o.problems.length}** | ${o.seconds.toFixed(1)} s |`;
const rowsOf = (o: Outcome) => [...o.byCategory].map(([cat, e]) => `| ${cat} | ${e.n} | ${[...e.codes].sort(([a], [b]) => a - b).map(([code, n]) => (cat.startsWith('CLI') ? `${code === 0 ? 'exit 0' : 'exit 1'} ×${n}` : `${code || 'no answer'} ×${n}`)).join(', ')} |`);
const before = BEFORE ? await runCorpus(BEFORE) : undefined;
const after = await runCorpus(ROOT);
const body = `| build | inputs | HTTP | CLI | 5xx | stored | broke a rule | time |\n|---|---|---|---|---|---|---|---|\n${before ? `${summary('before (main at the start of issue 17)', before)}\n` : ''}${summary('after', after)}\n\nAfter, by category:\n\n| category | inputs | answers |\n|---|---|---|\n${rowsOf(after).join('\n')}\n\nRules: every HTTP answer a 4xx with a Kubernetes \`Status\` body, none naming an engine error (\`Maximum call stack\`, \`is not iterable\`, \`URI malformed\`, \`Internal error\`); every CLI run exits non-zero with a message and no stack trace; the object count over every served kind is the same before and after; no injection string runs. The server is \`bin/kubelite\` with only the API (no component writes meanwhile). Run while other helpers' tests used the machine: only the time column is affected.${before ? `\n\nBefore, the rules broken (first 12 of ${before.problems.length}):\n${before.problems.slice(0, 12).map((p) => `- ${p.replace(/\n/g, ' ').replace(/\|/g, '/').slice(0, 180)}`).join('\n')}` : ''}${after.problems.length ? `\n\nProblems after:\n${after.problems.map((p) => `- ${p.replace(/\n/g, ' ')}`).join('\n')}` : ''}`;
writeSection('bad-input', 'Bad-input corpus: malformed and hostile inputs through the API and the CLI (issue 17)', `npm run build && node --import tsx bench/bad-input.ts${BEFORE ? ' --before <checkout of the earlier build>' : ''}`, body);
if (after.problems.length) {
  console.error(after.problems.join('\n'));
  process.exit(1);
}
