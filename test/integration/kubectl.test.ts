// The real kubectl (1.32) against a real `kubelite server`: discovery, get (every output format, -l, -A,
// --watch, --sort-by), apply (client- and server-side), create/replace/edit/label/annotate/delete,
// scale, describe, explain, and what kubectl prints for requests we refuse. Only the API runs here (all
// components disabled); commands that need Pods to really run are in kubectl-workloads.test.ts.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { groupVersions, R } from '../../src/api/resources.js';
import type { KObject, Pod } from '../../src/api/types.js';
import { cleanupInstance, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { kubectlFor, normalizeTable, tableRows, type Kubectl } from '../helpers/kubectl.js';
import { withKubectl } from '../helpers/kubectl-suite.js';


withKubectl('kubectl compatibility suite', suite);

function suite(bin: string): void {
  let server: TestServer;
  let k: Kubectl;
  let tmp: string;
  let nsCounter = 0;

  test.before(async () => {
    server = await startTestServer({ slot: 6, args: ['--disable', 'agent,scheduler,controllers,proxy,dns,ingress'] });
    k = kubectlFor(server.kubeconfig, bin);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-kubectl-test-'));
  });

  test.after.always(async () => {
    await server?.stop();
    cleanupInstance(server);
    k?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh namespace per test, made with `kubectl create namespace` (a protobuf body). */
  async function namespace(prefix: string): Promise<string> {
    const ns = `${prefix}-${++nsCounter}`;
    const r = await k(['create', 'namespace', ns]);
    if (r.code !== 0) throw new Error(`create namespace ${ns}: ${r.stderr}`);
    return ns;
  }

  function file(name: string, text: string): string {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, text);
    return p;
  }

  async function json<T = KObject>(args: string[]): Promise<T> {
    const r = await k([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** A Pod that looks as the agent would leave it: bound to a node, running, ready, with an IP. */
  async function runningPod(ns: string, name: string, labels: Record<string, string>, ip: string): Promise<void> {
    await server.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: 'app', image: 'kubelite/echo:1' }] } } as Pod);
    await server.client.createSubresource(R.pods, ns, name, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-a' } } as KObject);
    const pod = await server.client.get<Pod>(R.pods, ns, name);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    pod.status = {
      ...pod.status,
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '127.0.0.1',
      startTime: now,
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      ],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'kubelite/echo:1', imageID: 'docker://sha256:abc', containerID: 'docker://abc', started: true, state: { running: { startedAt: now } } }],
    } as Pod['status'];
    await server.client.update(R.pods, pod, { subresource: 'status' } as never);
  }

  // ------------------------------------------------------------------ discovery

  test('kubectl version reports the server as v1.32.0-kubelite', async (t) => {
    const r = await k(['version']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /^Server Version: v1\.32\.0-kubelite$/m);
    const j = JSON.parse((await k(['version', '-o', 'json'])).stdout);
    t.like(j.serverVersion, { major: '1', minor: '32', gitVersion: 'v1.32.0-kubelite', platform: 'linux/amd64' });
  });

  test('kubectl api-resources lists kinds with SHORTNAMES and APIVERSION', async (t) => {
    const r = await k(['api-resources']);
    t.is(r.code, 0, r.stderr);
    const rows = tableRows(r.stdout);
    t.deepEqual(rows[0], ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND']);
    // The first row of a name: `pods` is also metrics.k8s.io's PodMetrics, listed after the core group.
    const byName = new Map<string, string[]>();
    for (const row of rows.slice(1)) if (!byName.has(row[0])) byName.set(row[0], row);
    t.true(rows.some((row) => row.join(' ') === 'pods metrics.k8s.io/v1beta1 true PodMetrics'), r.stdout);
    t.deepEqual(byName.get('pods'), ['pods', 'po', 'v1', 'true', 'Pod']);
    t.deepEqual(byName.get('services'), ['services', 'svc', 'v1', 'true', 'Service']);
    t.deepEqual(byName.get('deployments'), ['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
    t.deepEqual(byName.get('replicasets'), ['replicasets', 'rs', 'apps/v1', 'true', 'ReplicaSet']);
    t.deepEqual(byName.get('namespaces'), ['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    t.deepEqual(byName.get('nodes'), ['nodes', 'no', 'v1', 'false', 'Node']);
    t.deepEqual(byName.get('ingresses'), ['ingresses', 'ing', 'networking.k8s.io/v1', 'true', 'Ingress']);
    // Secrets have no short name: kubectl prints an empty cell, which splits as four cells.
    t.deepEqual(byName.get('secrets'), ['secrets', 'v1', 'true', 'Secret']);

    const wide = await k(['api-resources', '--api-group=apps', '-o', 'wide']);
    t.is(wide.code, 0, wide.stderr);
    t.regex(wide.stdout, /deployments\s+deploy\s+apps\/v1\s+true\s+Deployment\s+create,delete,deletecollection,get,list,patch,update,watch\s+all/);
  });

  test('kubectl api-versions and cluster-info', async (t) => {
    const v = await k(['api-versions']);
    t.is(v.code, 0, v.stderr);
    // Every served group-version, sorted as kubectl prints them.
    // (metrics.k8s.io is served beside the stored kinds, as an aggregated metrics-server would be.)
    t.deepEqual(v.stdout.trim().split('\n'), [...groupVersions().map((gv) => gv.apiVersion), 'metrics.k8s.io/v1beta1'].sort());
    t.true(['apps/v1', 'coordination.k8s.io/v1', 'discovery.k8s.io/v1', 'networking.k8s.io/v1', 'v1'].every((gv) => v.stdout.includes(gv)));
    const c = await k(['cluster-info']);
    t.is(c.code, 0, c.stderr);
    const url = YAML.parse(fs.readFileSync(server.kubeconfig, 'utf8')).clusters[0].cluster.server;
    // kubectl colours the line only on a terminal.
    t.true(c.stdout.includes(`Kubernetes control plane is running at ${url}`), c.stdout);
  });

  test('kubectl explain reads our OpenAPI v3 documents', async (t) => {
    const r = await k(['explain', 'deployment.spec.replicas']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /GROUP:\s+apps/);
    t.regex(r.stdout, /KIND:\s+Deployment/);
    t.regex(r.stdout, /FIELD: replicas <integer>/);
    const svc = await k(['explain', 'svc.spec.ports']);
    t.is(svc.code, 0, svc.stderr);
    t.regex(svc.stdout, /FIELD: ports <\[\]ServicePort>/);
  });

  // ------------------------------------------------------------------ apply

  const deployment = (ns: string, replicas: number, env: string, ports: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: kubelite/echo:1
        ports:
${ports}
        env:
${env}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
`;

  test('kubectl apply: create, unchanged, then a strategic merge patch that merges lists by key', async (t) => {
    const ns = await namespace('apply');
    const v1 = file(`${ns}-v1.yaml`, deployment(ns, 2, '        - {name: A, value: "1"}\n        - {name: B, value: "2"}', '        - containerPort: 8080'));
    const first = await k(['apply', '-f', v1]);
    t.is(first.code, 0, first.stderr);
    t.is(first.stdout, 'deployment.apps/web created\nservice/web created\n');
    const again = await k(['apply', '-f', v1]);
    t.is(again.code, 0, again.stderr);
    t.is(again.stdout, 'deployment.apps/web unchanged\nservice/web unchanged\n');

    // Someone else's change (not in the file) must survive the next apply: three-way merge.
    t.is((await k(['annotate', 'deploy/web', '-n', ns, 'owner=ops'])).code, 0);
    const created = await json<KObject>(['get', 'deploy', 'web', '-n', ns]);
    t.truthy(created.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);

    const v2 = file(
      `${ns}-v2.yaml`,
      deployment(ns, 3, '        - {name: A, value: "1"}\n        - {name: C, value: "3"}', '        - containerPort: 8080\n        - {containerPort: 9090, name: metrics}'),
    );
    const changed = await k(['apply', '-f', v2]);
    t.is(changed.code, 0, changed.stderr);
    t.is(changed.stdout, 'deployment.apps/web configured\nservice/web unchanged\n');
    const d = await json<KObject & { spec: { replicas: number; template: { spec: { containers: { env: unknown[]; ports: unknown[] }[] } } } }>(['get', 'deploy', 'web', '-n', ns]);
    t.is(d.spec.replicas, 3);
    t.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }, { name: 'C', value: '3' }]);
    t.deepEqual(d.spec.template.spec.containers[0].ports, [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 9090, name: 'metrics', protocol: 'TCP' }]);
    t.is(d.metadata.annotations?.owner, 'ops');
    t.is(d.metadata.generation, 2);

    // Going back to Recreate needs $retainKeys on .spec.strategy (the OpenAPI says so): rollingUpdate must go.
    const recreate = file(`${ns}-v3.yaml`, fs.readFileSync(v2, 'utf8').replace('  replicas: 3\n', '  replicas: 3\n  strategy: {type: Recreate}\n'));
    const r3 = await k(['apply', '-f', recreate]);
    t.is(r3.code, 0, r3.stderr);
    t.deepEqual((await json<{ spec: { strategy: unknown } }>(['get', 'deploy', 'web', '-n', ns])).spec.strategy, { type: 'Recreate' });
  });

  test('kubectl apply --validate=strict leaves validation to the server (fieldValidation=Strict)', async (t) => {
    const ns = await namespace('strict');
    const bad = file(`${ns}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: ${ns}\n  bogus: 1\ndata: {a: b}\n`);
    const r = await k(['apply', '--validate=strict', '-f', bad]);
    t.is(r.code, 1);
    t.is(r.stdout, '');
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, /^Error from server \(BadRequest\): error when creating ".*": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata\.bogus"$/m);
    const warn = await k(['apply', '--validate=warn', '-f', bad]);
    t.is(warn.code, 0, warn.stderr);
    t.regex(warn.stderr, /Warning: unknown field "metadata\.bogus"/);
  });

  test('kubectl apply --server-side: applied, re-applied, and a conflict with another manager', async (t) => {
    const ns = await namespace('ssa');
    const f = file(`${ns}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: ${ns}\ndata: {a: "1"}\n`);
    const r1 = await k(['apply', '--server-side', '-f', f]);
    t.is(r1.code, 0, r1.stderr);
    t.is(r1.stdout, 'configmap/cfg serverside-applied\n');
    const r2 = await k(['apply', '--server-side', '-f', f]);
    t.is(r2.code, 0, r2.stderr);
    t.is(r2.stdout, 'configmap/cfg serverside-applied\n');
    const other = file(`${ns}-other.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: ${ns}\ndata: {a: "2"}\n`);
    const conflict = await k(['apply', '--server-side', '--field-manager=other', '-f', other]);
    t.is(conflict.code, 1);
    t.regex(conflict.stderr, /Apply failed with 1 conflict: conflict with "kubectl" using v1: \.data\.a/);
    const forced = await k(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', other]);
    t.is(forced.code, 0, forced.stderr);
    t.is((await json<{ data: Record<string, string> }>(['get', 'cm', 'cfg', '-n', ns])).data.a, '2');
  });

  // ------------------------------------------------------------------ create, replace, edit, label, annotate

  test('kubectl create deployment|configmap|secret|service|ingress (protobuf bodies)', async (t) => {
    const ns = await namespace('create');
    const cases: [string[], string][] = [
      [['create', 'deployment', 'hello', '--image=kubelite/echo:1', '--replicas=2', '--port=8080'], 'deployment.apps/hello created'],
      [['create', 'deployment', 'none', '--image=kubelite/echo:1', '--replicas=0'], 'deployment.apps/none created'],
      [['create', 'configmap', 'cfg', '--from-literal=a=1', '--from-literal=b=two words'], 'configmap/cfg created'],
      [['create', 'secret', 'generic', 'pw', '--from-literal=password=s3cr3t'], 'secret/pw created'],
      [['create', 'service', 'nodeport', 'np', '--tcp=80:8080'], 'service/np created'],
      [['create', 'ingress', 'ing', '--class=default', '--rule=foo.example/api*=np:80,tls=foo-cert'], 'ingress.networking.k8s.io/ing created'],
    ];
    for (const [args, out] of cases) {
      const r = await k([...args, '-n', ns]);
      t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      t.is(r.stdout.trim(), out);
    }
    const d = await json<{ metadata: KObject['metadata']; spec: { replicas: number; selector: unknown; template: { spec: { containers: { name: string; image: string; ports: unknown[] }[] } } } }>(['get', 'deploy', 'hello', '-n', ns]);
    t.deepEqual(d.metadata.labels, { app: 'hello' });
    t.is(d.spec.replicas, 2);
    t.deepEqual(d.spec.selector, { matchLabels: { app: 'hello' } });
    t.like(d.spec.template.spec.containers[0], { name: 'echo', image: 'kubelite/echo:1' });
    t.deepEqual(d.spec.template.spec.containers[0].ports, [{ containerPort: 8080, protocol: 'TCP' }]);
    t.is((await json<{ spec: { replicas: number } }>(['get', 'deploy', 'none', '-n', ns])).spec.replicas, 0, 'an explicit --replicas=0 is kept');
    t.deepEqual((await json<{ data: unknown }>(['get', 'cm', 'cfg', '-n', ns])).data, { a: '1', b: 'two words' });
    const secret = await json<{ data: Record<string, string>; type: string }>(['get', 'secret', 'pw', '-n', ns]);
    t.is(Buffer.from(secret.data.password, 'base64').toString(), 's3cr3t');
    t.is(secret.type, 'Opaque');
    const svc = await json<{ spec: { type: string; ports: unknown[]; selector: unknown } }>(['get', 'svc', 'np', '-n', ns]);
    t.is(svc.spec.type, 'NodePort');
    t.like(svc.spec.ports[0] as object, { name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' });
    t.deepEqual(svc.spec.selector, { app: 'np' });
    const ing = await json<{ spec: unknown }>(['get', 'ing', 'ing', '-n', ns]);
    t.deepEqual(ing.spec, {
      ingressClassName: 'default',
      rules: [{ host: 'foo.example', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'np', port: { number: 80 } } } }] } }],
      tls: [{ hosts: ['foo.example'], secretName: 'foo-cert' }],
    });
    const dup = await k(['create', 'configmap', 'cfg', '--from-literal=a=1', '-n', ns]);
    t.is(dup.code, 1);
    t.is(dup.stderr.trim(), 'error: failed to create configmap: configmaps "cfg" already exists');
  });

  test('kubectl create -f, replace -f, and edit (PUT) with EDITOR', async (t) => {
    const ns = await namespace('replace');
    const f = file(`${ns}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: ${ns}\ndata: {a: "1"}\n`);
    const c = await k(['create', '-f', f]);
    t.is(c.code, 0, c.stderr);
    t.is(c.stdout, 'configmap/cfg created\n');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('a: "1"', 'a: "2"'));
    const r = await k(['replace', '-f', f]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'configmap/cfg replaced\n');
    t.deepEqual((await json<{ data: unknown }>(['get', 'cm', 'cfg', '-n', ns])).data, { a: '2' });

    const editor = file('editor.sh', '#!/bin/sh\nsed -i \'s/a: "2"/a: "3"/; s/^  a: .2.$/  a: "3"/\' "$1"\n');
    fs.chmodSync(editor, 0o755);
    const e = await k(['edit', 'cm/cfg', '-n', ns], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
    t.is(e.code, 0, e.stderr);
    t.is(e.stdout, 'configmap/cfg edited\n');
    t.deepEqual((await json<{ data: unknown }>(['get', 'cm', 'cfg', '-n', ns])).data, { a: '3' });
    const same = await k(['edit', 'cm/cfg', '-n', ns], { env: { EDITOR: 'true', KUBE_EDITOR: 'true' } });
    t.is(same.code, 0, same.stderr);
    t.is(same.stdout, '');
    t.is(same.stderr.trim(), 'Edit cancelled, no changes made.');
  });

  test('kubectl label (--overwrite, removal) and annotate', async (t) => {
    const ns = await namespace('label');
    t.is((await k(['create', 'configmap', 'cfg', '-n', ns])).code, 0);
    const l1 = await k(['label', 'cm', 'cfg', 'env=dev', '-n', ns]);
    t.is(l1.code, 0, l1.stderr);
    t.is(l1.stdout, 'configmap/cfg labeled\n');
    const l2 = await k(['label', 'cm', 'cfg', 'env=prod', '-n', ns]);
    t.is(l2.code, 1);
    t.is(l2.stderr.trim(), "error: 'env' already has a value (dev), and --overwrite is false");
    const l3 = await k(['label', 'cm', 'cfg', 'env=prod', '--overwrite', '-n', ns]);
    t.is(l3.code, 0, l3.stderr);
    const a = await k(['annotate', 'cm', 'cfg', 'note=hello world', '-n', ns]);
    t.is(a.code, 0, a.stderr);
    t.is(a.stdout, 'configmap/cfg annotated\n');
    const got = await json<KObject>(['get', 'cm', 'cfg', '-n', ns]);
    t.deepEqual(got.metadata.labels, { env: 'prod' });
    t.is(got.metadata.annotations?.note, 'hello world');
    const rm = await k(['label', 'cm', 'cfg', 'env-', '-n', ns]);
    t.is(rm.code, 0, rm.stderr);
    t.is(rm.stdout, 'configmap/cfg unlabeled\n');
    t.is((await json<KObject>(['get', 'cm', 'cfg', '-n', ns])).metadata.labels, undefined);
  });

  // ------------------------------------------------------------------ delete

  test('kubectl delete -f and delete KIND NAME --wait (waits for finalizers through a watch)', async (t) => {
    const ns = await namespace('delete');
    const f = file(`${ns}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ${ns}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b, namespace: ${ns}}\nstringData: {x: "y"}\n`);
    // (An unquoted `y` is YAML 1.1's true: stringData values must be strings, so that is now a 422, as in Kubernetes.)
    t.is((await k(['apply', '-f', f])).code, 0);
    const d = await k(['delete', '-f', f]);
    t.is(d.code, 0, d.stderr);
    t.is(d.stdout, 'configmap "a" deleted\nsecret "b" deleted\n');
    const missing = await k(['delete', 'cm', 'a', '-n', ns]);
    t.is(missing.code, 1);
    t.is(missing.stderr.trim(), 'Error from server (NotFound): configmaps "a" not found');

    await server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: ns, finalizers: ['example.com/hold'] } });
    const child = k.spawn(['delete', 'cm', 'held', '-n', ns, '--wait', '--timeout=30s']);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    await waitFor(async () => (await server.client.get(R.configmaps, ns, 'held')).metadata.deletionTimestamp, 10_000, 'deletionTimestamp');
    await new Promise((r) => setTimeout(r, 700));
    t.is(child.exitCode, null, 'kubectl delete --wait must wait while a finalizer holds the object');
    await server.client.patch(R.configmaps, ns, 'held', 'merge', { metadata: { finalizers: null } });
    t.is(await exited, 0);
    t.is(out, 'configmap "held" deleted\n');
  });

  // ------------------------------------------------------------------ get

  test('kubectl get pods: columns, -o wide, -l, -A, --show-labels, -L, --sort-by, field selectors', async (t) => {
    const ns = await namespace('getpods');
    await runningPod(ns, 'web-2', { app: 'web', tier: 'front' }, '10.200.6.12');
    await runningPod(ns, 'web-1', { app: 'web', tier: 'front' }, '10.200.6.11');
    await server.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', namespace: ns, labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'kubelite/echo:1' }] } } as Pod);

    const plain = await k(['get', 'pods', '-n', ns]);
    t.is(plain.code, 0, plain.stderr);
    t.is(
      normalizeTable(plain.stdout),
      normalizeTable(`NAME    READY   STATUS    RESTARTS   AGE
db      0/1     Pending   0          1s
web-1   1/1     Running   0          1s
web-2   1/1     Running   0          1s`),
    );
    const wide = await k(['get', 'po', '-n', ns, '-o', 'wide']);
    t.is(
      normalizeTable(wide.stdout),
      normalizeTable(`NAME    READY   STATUS    RESTARTS   AGE   IP            NODE     NOMINATED NODE   READINESS GATES
db      0/1     Pending   0          1s    <none>        <none>   <none>           <none>
web-1   1/1     Running   0          1s    10.200.6.11   node-a   <none>           <none>
web-2   1/1     Running   0          1s    10.200.6.12   node-a   <none>           <none>`),
    );
    const sel = await k(['get', 'pods', '-n', ns, '-l', 'app=web,tier in (front)', '-o', 'name']);
    t.is(sel.stdout, 'pod/web-1\npod/web-2\n');
    const all = await k(['get', 'pods', '-A', '-l', 'tier=front', '--show-labels']);
    t.is(
      normalizeTable(all.stdout),
      normalizeTable(`NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE   LABELS
${ns}   web-1   1/1     Running   0          1s    app=web,tier=front
${ns}   web-2   1/1     Running   0          1s    app=web,tier=front`),
    );
    const cols = await k(['get', 'pods', '-n', ns, '-L', 'tier']);
    t.deepEqual(tableRows(cols.stdout)[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'TIER']);
    t.deepEqual(tableRows(cols.stdout).slice(1).map((r) => [r[0], r.length === 6 ? r[5] : '']), [['db', ''], ['web-1', 'front'], ['web-2', 'front']]);
    const sorted = await k(['get', 'pods', '-n', ns, '--sort-by=.status.podIP', '-o', 'name']);
    t.is(sorted.code, 0, sorted.stderr);
    t.is(sorted.stdout, 'pod/db\npod/web-1\npod/web-2\n');
    const byIP = await k(['get', 'pods', '-n', ns, '--sort-by=.metadata.name', '--no-headers']);
    t.deepEqual(tableRows(byIP.stdout).map((r) => r[0]), ['db', 'web-1', 'web-2']);
    const running = await k(['get', 'pods', '-n', ns, '--field-selector=status.phase=Running', '-o', 'name']);
    t.is(running.stdout, 'pod/web-1\npod/web-2\n');
    const jp = await k(['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.podIP}{"\\n"}{end}']);
    t.is(jp.stdout, 'web-1=10.200.6.11\nweb-2=10.200.6.12\n');
    const one = await k(['get', 'pod', 'web-1', '-n', ns, '-o', 'jsonpath={.spec.nodeName}']);
    t.is(one.stdout, 'node-a');
    const cc = await k(['get', 'pods', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,IP:.status.podIP']);
    t.is(normalizeTable(cc.stdout), normalizeTable('NAME    IP\ndb      <none>\nweb-1   10.200.6.11\nweb-2   10.200.6.12'));
    const none = await k(['get', 'pods', '-n', ns, '-l', 'app=nothing']);
    t.is(none.code, 0);
    t.is(none.stdout, '');
    t.is(none.stderr.trim(), `No resources found in ${ns} namespace.`);
  });

  test('kubectl get -o yaml|json|name of one object and of a list', async (t) => {
    const ns = await namespace('formats');
    await runningPod(ns, 'p', { app: 'p' }, '10.200.6.20');
    const y = await k(['get', 'pod', 'p', '-n', ns, '-o', 'yaml']);
    t.is(y.code, 0, y.stderr);
    const doc = YAML.parse(y.stdout);
    t.like(doc, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: { nodeName: 'node-a' }, status: { phase: 'Running', podIP: '10.200.6.20' } });
    const list = JSON.parse((await k(['get', 'pods', '-n', ns, '-o', 'json'])).stdout);
    t.is(list.kind, 'List');
    t.is(list.items.length, 1);
    t.is(list.items[0].kind, 'Pod');
    const name = await k(['get', 'pods,svc', '-n', ns, '-o', 'name']);
    t.is(name.stdout, 'pod/p\n');
  });

  test('kubectl get deployments, replicasets, services, endpoints, nodes, namespaces, events: their columns', async (t) => {
    const ns = await namespace('kinds');
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'kubelite/echo:1' }] } };
    await server.client.create(R.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } } as KObject);
    const dep = await server.client.get(R.deployments, ns, 'web');
    await server.client.update(R.deployments, { ...dep, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 } }, { subresource: 'status' } as never);
    await server.client.create(R.replicasets, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-5d8f7c9b6d', namespace: ns, labels: { app: 'web' } }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template } } as KObject);
    await server.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: ns }, spec: { type: 'ExternalName', externalName: 'example.com' } } as KObject);
    await server.client.create(R.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: ns }, subsets: [{ addresses: [{ ip: '10.200.6.31' }, { ip: '10.200.6.32' }], ports: [{ port: 8080, protocol: 'TCP' }] }] } as KObject);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await server.client.create(R.events, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1', namespace: ns }, involvedObject: { kind: 'Deployment', name: 'web', namespace: ns, apiVersion: 'apps/v1' }, reason: 'ScalingReplicaSet', message: 'Scaled up replica set web-5d8f7c9b6d to 2', type: 'Normal', source: { component: 'deployment-controller' }, firstTimestamp: now, lastTimestamp: now, count: 1 } as KObject);
    await server.client.create(R.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${ns}`, labels: { 'node-role.kubernetes.io/control-plane': '' } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], nodeInfo: { kubeletVersion: 'v1.32.0-kubelite', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'docker://20.10.24', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' } } } as KObject);
    t.teardown(() => server.client.delete(R.nodes, undefined, `node-${ns}`).catch(() => undefined));

    const expect = async (args: string[], table: string) => {
      const r = await k([...args, '-n', ns]);
      t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      t.is(normalizeTable(r.stdout), normalizeTable(table), args.join(' '));
    };
    await expect(['get', 'deployments'], 'NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    1/2     2            1           1s');
    await expect(['get', 'deploy', '-o', 'wide'], 'NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES            SELECTOR\nweb    1/2     2            1           1s    web          kubelite/echo:1   app=web');
    await expect(['get', 'rs'], 'NAME             DESIRED   CURRENT   READY   AGE\nweb-5d8f7c9b6d   2         0         0       1s');
    await expect(['get', 'svc'], 'NAME   TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\next    ExternalName   <none>       example.com   <none>    1s');
    await expect(['get', 'endpoints'], 'NAME   ENDPOINTS                           AGE\nweb    10.200.6.31:8080,10.200.6.32:8080   1s');
    await expect(['get', 'events'], 'LAST SEEN   TYPE     REASON              OBJECT           MESSAGE\n1s          Normal   ScalingReplicaSet   deployment/web   Scaled up replica set web-5d8f7c9b6d to 2');
    const nodes = await k(['get', 'node', `node-${ns}`]);
    t.is(normalizeTable(nodes.stdout), normalizeTable(`NAME   STATUS   ROLES           AGE   VERSION\nnode-${ns}   Ready    control-plane   1s    v1.32.0-kubelite`));
    const nodesWide = await k(['get', 'node', `node-${ns}`, '-o', 'wide']);
    t.is(
      normalizeTable(nodesWide.stdout),
      normalizeTable(`NAME   STATUS   ROLES   AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE   KERNEL-VERSION   CONTAINER-RUNTIME
node-${ns}   Ready   control-plane   1s   v1.32.0-kubelite   127.0.0.1   <none>   Debian GNU/Linux 12   6.1.0   docker://20.10.24`),
    );
    const nss = await k(['get', 'ns', ns]);
    t.is(normalizeTable(nss.stdout), normalizeTable(`NAME   STATUS   AGE\n${ns}   Active   1s`));

    const all = await k(['get', 'all', '-n', ns]);
    t.is(all.code, 0, all.stderr);
    t.is(
      normalizeTable(all.stdout),
      normalizeTable(`NAME          TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE
service/ext   ExternalName   <none>       example.com   <none>    1s

NAME                  READY   UP-TO-DATE   AVAILABLE   AGE
deployment.apps/web   1/2     2            1           1s

NAME                             DESIRED   CURRENT   READY   AGE
replicaset.apps/web-5d8f7c9b6d   2         0         0       1s`),
    );
  });

  test('kubectl get --watch: one header, then rows as they come (and --output-watch-events)', async (t) => {
    const ns = await namespace('watch');
    await server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first', namespace: ns }, data: { a: '1' } });
    const watchers = [k.spawn(['get', 'cm', '-n', ns, '--watch']), k.spawn(['get', 'cm', '-n', ns, '-w', '--output-watch-events'])];
    const outs = ['', ''];
    watchers.forEach((w, i) => w.stdout.on('data', (c) => (outs[i] += c)));
    t.teardown(() => watchers.forEach((w) => w.kill()));
    await waitFor(() => outs.every((o) => o.includes('first')), 15_000, 'the initial list');
    await server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'second', namespace: ns } });
    await server.client.patch(R.configmaps, ns, 'second', 'merge', { data: { x: 'y', z: 'w' } });
    await server.client.delete(R.configmaps, ns, 'first');
    await waitFor(() => outs[1].includes('DELETED'), 15_000, 'the DELETED event');
    // Every namespace also gets the kube-root-ca.crt ConfigMap (as in Kubernetes), before or after `first`.
    const ours = (rows: string[][]) => rows.filter((r) => !r.includes('kube-root-ca.crt'));
    await waitFor(() => ours(tableRows(outs[0])).length >= 5, 5_000, 'four rows');
    t.deepEqual(
      ours(tableRows(outs[0])).map((r) => [r[0], r[1]]),
      [['NAME', 'DATA'], ['first', '1'], ['second', '0'], ['second', '2'], ['first', '1']],
    );
    t.deepEqual(
      ours(tableRows(outs[1])).map((r) => [r[0], r[1], r[2]]),
      [['EVENT', 'NAME', 'DATA'], ['ADDED', 'first', '1'], ['ADDED', 'second', '0'], ['MODIFIED', 'second', '2'], ['DELETED', 'first', '1']],
    );
  });

  // ------------------------------------------------------------------ describe, scale, rollout restart

  test('kubectl describe pod, deployment and service (with events)', async (t) => {
    const ns = await namespace('describe');
    await runningPod(ns, 'web-1', { app: 'web' }, '10.200.6.41');
    const pod = await server.client.get(R.pods, ns, 'web-1');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await server.client.create(R.events, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.1', namespace: ns }, involvedObject: { kind: 'Pod', name: 'web-1', namespace: ns, uid: pod.metadata.uid, apiVersion: 'v1' }, reason: 'Started', message: 'Started container app', type: 'Normal', source: { component: 'kubelet', host: 'node-a' }, firstTimestamp: now, lastTimestamp: now, count: 1 } as KObject);
    const p = await k(['describe', 'pod', 'web-1', '-n', ns]);
    t.is(p.code, 0, p.stderr);
    t.regex(p.stdout, /^Name:\s+web-1$/m);
    t.regex(p.stdout, /^Namespace:\s+describe-\d+$/m);
    t.regex(p.stdout, /^Node:\s+node-a\/127\.0\.0\.1$/m);
    t.regex(p.stdout, /^Status:\s+Running$/m);
    t.regex(p.stdout, /^IP:\s+10\.200\.6\.41$/m);
    t.regex(p.stdout, /^\s+Image:\s+kubelite\/echo:1$/m);
    t.regex(p.stdout, /^\s+State:\s+Running$/m);
    t.regex(p.stdout, /^QoS Class:\s+BestEffort$/m);
    t.regex(p.stdout, /^\s+Normal\s+Started\s+\S+\s+kubelet\s+Started container app$/m);

    await server.client.create(R.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns, labels: { app: 'web' } }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'kubelite/echo:1', ports: [{ containerPort: 8080 }] }] } } } } as KObject);
    const d = await k(['describe', 'deploy/web', '-n', ns]);
    t.is(d.code, 0, d.stderr);
    t.regex(d.stdout, /^Replicas:\s+3 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    t.regex(d.stdout, /^StrategyType:\s+RollingUpdate$/m);
    t.regex(d.stdout, /^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$/m);
    t.regex(d.stdout, /^\s+Port:\s+8080\/TCP$/m);

    await server.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } as KObject);
    // Endpoints and EndpointSlices come from the endpoints controller (the services component always
    // runs); kubectl 1.32 describes a Service's endpoints from its EndpointSlices.
    await waitFor(async () => (await k(['get', 'endpoints', 'web', '-n', ns, '-o', 'jsonpath={.subsets[0].addresses[0].ip}'])).stdout === '10.200.6.41', 15_000, 'the Endpoints of web');
    const s = await k(['describe', 'svc', 'web', '-n', ns]);
    t.is(s.code, 0, s.stderr);
    t.regex(s.stdout, /^Selector:\s+app=web$/m);
    t.regex(s.stdout, /^Type:\s+ClusterIP$/m);
    t.regex(s.stdout, /^Port:\s+<unset>\s+80\/TCP$/m);
    t.regex(s.stdout, /^TargetPort:\s+8080\/TCP$/m);
    t.regex(s.stdout, /^Endpoints:\s+10\.200\.6\.41:8080$/m);
  });

  test('kubectl scale uses the scale subresource; rollout restart patches the template', async (t) => {
    const ns = await namespace('scale');
    t.is((await k(['create', 'deployment', 'web', '--image=kubelite/echo:1', '--replicas=1', '-n', ns])).code, 0);
    const s = await k(['scale', 'deploy/web', '--replicas=4', '-n', ns]);
    t.is(s.code, 0, s.stderr);
    t.is(s.stdout, 'deployment.apps/web scaled\n');
    t.is((await json<{ spec: { replicas: number } }>(['get', 'deploy', 'web', '-n', ns])).spec.replicas, 4);
    const scale = await server.client.get(R.deployments, ns, 'web', 'scale');
    t.like(scale, { apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: 4 }, status: { selector: 'app=web' } });
    const pre = await k(['scale', 'deploy/web', '--current-replicas=2', '--replicas=3', '-n', ns]);
    t.is(pre.code, 1);
    t.regex(pre.stderr, /Expected replicas to be 2, was 4/);

    const r = await k(['rollout', 'restart', 'deploy/web', '-n', ns]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'deployment.apps/web restarted\n');
    const d = await json<{ metadata: KObject['metadata']; spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(['get', 'deploy', 'web', '-n', ns]);
    t.regex(d.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'] ?? '', /^\d{4}-\d\d-\d\dT/);
    t.is(d.metadata.generation, 3);
  });

  // ------------------------------------------------------------------ our CLI and kubectl agree

  test('kubelite get and kubectl get print the same tables', async (t) => {
    const ns = await namespace('same');
    await runningPod(ns, 'a', { app: 'a' }, '10.200.6.51');
    await server.client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: ns }, spec: { type: 'ExternalName', externalName: 'example.com' } } as KObject);
    await server.client.create(R.deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'kubelite/echo:1' }] } } } } as KObject);
    for (const args of [['get', 'pods'], ['get', 'pods', '-o', 'wide'], ['get', 'svc'], ['get', 'deploy', '-o', 'wide'], ['get', 'pods', '-o', 'name']]) {
      const ours = await server.cli([...args, '-n', ns]);
      const theirs = await k([...args, '-n', ns]);
      t.is(ours.code, 0, ours.stderr);
      t.is(theirs.code, 0, theirs.stderr);
      t.deepEqual(tableRows(normalizeTable(ours.stdout)), tableRows(normalizeTable(theirs.stdout)), args.join(' '));
    }
  });

  // ------------------------------------------------------------------ what we refuse

  test('bad input: 405, 415, 422, 404 and 400 come back as Status errors kubectl prints on one line', async (t) => {
    const ns = await namespace('bad');
    const body = file('pod.json', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }));
    const m405 = await k(['create', '--raw', `/api/v1/namespaces/${ns}/pods/x`, '-f', body]);
    t.is(m405.code, 1);
    t.is(m405.stderr.trim(), 'Error from server (MethodNotAllowed): POST is not allowed on a named pod: use PUT or PATCH');

    const svc = file('svc.yaml', `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: ${ns}}\nspec:\n  ports: [{port: 99999, targetPort: 80}]\n`);
    const m422 = await k(['apply', '-f', svc]);
    t.is(m422.code, 1);
    t.is(m422.stderr.trim(), 'The Service "web" is invalid: spec.ports[0].port: Invalid value: 99999: must be between 1 and 65535, inclusive');
    const neg = await k(['create', 'deployment', 'neg', '--image=x', '--replicas=-1', '-n', ns]);
    t.is(neg.code, 1);
    t.regex(neg.stderr.trim(), /^error: failed to create deployment: Deployment\.apps "neg" is invalid: spec\.replicas: Invalid value: -1: must be greater than or equal to 0$/);

    // kubectl itself never sends a media type we do not read (protobuf included); any other client gets a 415 Status.
    const m415 = await server.client.raw('POST', `/api/v1/namespaces/${ns}/configmaps`, '<configmap/>', { 'Content-Type': 'application/xml' });
    t.is(m415.status, 415);
    t.like(JSON.parse(m415.body), { kind: 'Status', status: 'Failure', reason: 'UnsupportedMediaType', code: 415 });
    const patch415 = await server.client.raw('PATCH', `/api/v1/namespaces/${ns}/configmaps/x`, '{}', { 'Content-Type': 'application/apply-patch+cbor' });
    t.is(patch415.status, 415);

    const unknown = await k(['get', 'widgets']);
    t.is(unknown.code, 1);
    t.is(unknown.stderr.trim(), 'error: the server doesn\'t have a resource type "widgets"');
    const badSel = await k(['get', 'pods', '-n', ns, '--field-selector=spec.bogus=1']);
    t.is(badSel.code, 1);
    t.regex(badSel.stderr.trim(), /^Error from server \(BadRequest\): .*spec\.bogus.*$/);
    t.is(badSel.stderr.trim().split('\n').length, 1);
    // /openapi/v2 is served (issue 17): Swagger 2.0 as JSON here, as protobuf for kubectl's validation fallback.
    const v2 = await k(['get', '--raw', '/openapi/v2']);
    t.is(v2.code, 0, v2.stderr);
    t.is(JSON.parse(v2.stdout).swagger, '2.0');

    t.notRegex(server.logs(), /"statusCode":5\d\d|request failed/);
  });
}
