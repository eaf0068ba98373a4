// The REST API over real HTTPS, in-process (no components): every verb, every error shape, watch
// streaming, selectors, subresources, content negotiation and auth.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { defaultConfig } from '../../../src/config.js';
import { startServer, type RunningServer } from '../../../src/main/server.js';
import { HttpClient } from '../../../src/client/http-client.js';
import { loadConnection } from '../../../src/client/kubeconfig.js';
import { R } from '../../../src/api/resources.js';
import { isStatusError, StatusError } from '../../../src/api/errors.js';
import type { ConfigMap, Deployment, KObject, Pod, Service, WatchEvent } from '../../../src/api/types.js';
import { silentLogger } from '../../../src/util/log.js';

let server: RunningServer;
let client: HttpClient;
let dataDir: string;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-api-'));
  server = await startServer(defaultConfig({ dataDir, apiPort: 0 }), [], silentLogger());
  client = new HttpClient(loadConnection(server.kubeconfigPath));
});

test.after.always(async () => {
  client?.close();
  await server?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function deployment(name: string, labels: Record<string, string> = { app: name }): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'kubelite/echo:1' }] } } },
  };
}

async function expectStatus(t: import('ava').ExecutionContext, p: Promise<unknown>, code: number, reason: string): Promise<StatusError> {
  const err = await t.throwsAsync(p);
  t.true(isStatusError(err), `expected a Status error, got ${err}`);
  const se = err as StatusError;
  t.is(se.status.code, code, se.message);
  t.is(se.status.reason, reason, se.message);
  t.is(se.status.kind, 'Status');
  return se;
}

test('discovery and version documents', async (t) => {
  const v = await client.request<Record<string, string>>('GET', '/version');
  t.is(v.major, '1');
  t.is(v.minor, '32');
  const api = await client.request<{ versions: string[] }>('GET', '/api');
  t.deepEqual(api.versions, ['v1']);
  const groups = await client.request<{ groups: { name: string }[] }>('GET', '/apis');
  t.true(groups.groups.some((g) => g.name === 'apps'));
  const v1 = await client.request<{ resources: { name: string; shortNames?: string[]; categories?: string[] }[] }>('GET', '/api/v1');
  const pods = v1.resources.find((r) => r.name === 'pods');
  t.deepEqual(pods?.shortNames, ['po']);
  t.deepEqual(pods?.categories, ['all']);
  t.truthy(v1.resources.find((r) => r.name === 'pods/log'));
  const apps = await client.request<{ resources: { name: string; kind: string }[] }>('GET', '/apis/apps/v1');
  t.is(apps.resources.find((r) => r.name === 'deployments/scale')?.kind, 'Scale');
});

test('requests without the token get 401 Status; health endpoints are public', async (t) => {
  const anon = new HttpClient({ ...loadConnection(server.kubeconfigPath), token: undefined });
  await expectStatus(t, anon.list(R.pods, { namespace: 'default' }), 401, 'Unauthorized');
  const wrong = new HttpClient({ ...loadConnection(server.kubeconfigPath), token: 'x'.repeat(43) });
  await expectStatus(t, wrong.list(R.pods), 401, 'Unauthorized');
  const health = await anon.raw('GET', '/healthz');
  t.is(health.status, 200);
  anon.close();
  wrong.close();
});

test('the TLS certificate verifies with the kubeconfig CA and the kubeconfig file is private', async (t) => {
  const conn = loadConnection(server.kubeconfigPath);
  const status = await new Promise<number>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: server.port, path: '/healthz', ca: conn.caPem }, (res) => resolve(res.statusCode ?? 0)).on('error', reject);
  });
  t.is(status, 200);
  t.is(fs.statSync(server.kubeconfigPath).mode & 0o777, 0o600);
  t.is(fs.statSync(path.join(dataDir, 'token')).mode & 0o777, 0o600);
});

test('create, get, list, update, patch, delete a Deployment with defaults, generation and resourceVersion', async (t) => {
  const created = await client.create<Deployment>(R.deployments, { ...deployment('web'), metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } } });
  t.truthy(created.metadata.uid);
  t.is(created.metadata.generation, 1);
  t.is(created.spec.strategy?.type, 'RollingUpdate');
  t.is(created.spec.template.spec.restartPolicy, 'Always');
  const got = await client.get<Deployment>(R.deployments, 'default', 'web');
  t.is(got.metadata.resourceVersion, created.metadata.resourceVersion);

  const list = await client.list<Deployment>(R.deployments, { namespace: 'default' });
  t.true(list.items.some((d) => d.metadata.name === 'web'));
  t.truthy(list.metadata.resourceVersion);

  got.spec.replicas = 5;
  const updated = await client.update(R.deployments, got);
  t.is(updated.spec.replicas, 5);
  t.is(updated.metadata.generation, 2);
  t.true(Number(updated.metadata.resourceVersion) > Number(got.metadata.resourceVersion));

  // A stale resourceVersion is a 409 Conflict.
  await expectStatus(t, client.update(R.deployments, got), 409, 'Conflict');

  const merged = await client.patch<Deployment>(R.deployments, 'default', 'web', 'merge', { metadata: { labels: { tier: 'front' } } });
  t.is(merged.metadata.labels?.tier, 'front');
  t.is(merged.metadata.labels?.app, 'web');
  t.is(merged.metadata.generation, 2, 'a metadata-only change does not bump generation');

  const smp = await client.patch<Deployment>(R.deployments, 'default', 'web', 'strategic', { spec: { template: { spec: { containers: [{ name: 'c', image: 'kubelite/echo:2' }] } } } });
  t.is(smp.spec.template.spec.containers.length, 1);
  t.is(smp.spec.template.spec.containers[0].image, 'kubelite/echo:2');

  const jp = await client.patch<Deployment>(R.deployments, 'default', 'web', 'json', [{ op: 'replace', path: '/spec/replicas', value: 1 }]);
  t.is(jp.spec.replicas, 1);

  const del = (await client.delete(R.deployments, 'default', 'web')) as KObject;
  t.is(del.metadata.name, 'web');
  await expectStatus(t, client.get(R.deployments, 'default', 'web'), 404, 'NotFound');
});

test('a no-op update does not bump the resourceVersion', async (t) => {
  const cm = await client.create<ConfigMap>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'noop', namespace: 'default' }, data: { a: '1' } });
  const again = await client.update<ConfigMap>(R.configmaps, cm);
  t.is(again.metadata.resourceVersion, cm.metadata.resourceVersion);
});

test('error shapes: AlreadyExists, NotFound, Invalid with causes, BadRequest, 405, 415, unknown paths', async (t) => {
  await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dup', namespace: 'default' } });
  await expectStatus(t, client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dup', namespace: 'default' } }), 409, 'AlreadyExists');
  await expectStatus(t, client.get(R.pods, 'default', 'nope'), 404, 'NotFound');
  await expectStatus(t, client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'no-such-ns' } }), 404, 'NotFound');

  const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad-port', namespace: 'default' }, spec: { ports: [{ port: 70000 }] } };
  const invalid = await expectStatus(t, client.create(R.services, svc), 422, 'Invalid');
  const cause = invalid.status.details?.causes?.find((c) => c.field === 'spec.ports[0].port');
  t.truthy(cause, JSON.stringify(invalid.status));
  t.regex(invalid.status.message!, /spec\.ports\[0\]\.port: Invalid value: 70000: must be between 1 and 65535, inclusive/);

  const badName = await expectStatus(t, client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid', namespace: 'default' } }), 422, 'Invalid');
  t.truthy(badName.status.details?.causes?.find((c) => c.field === 'metadata.name'));

  const sel = deployment('mismatch');
  sel.spec.template.metadata!.labels = { app: 'other' };
  const mm = await expectStatus(t, client.create(R.deployments, { ...sel, metadata: { ...sel.metadata, namespace: 'default' } }), 422, 'Invalid');
  t.regex(mm.status.message!, /`selector` does not match template `labels`/);

  const strict = await expectStatus(
    t,
    client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict', namespace: 'default' }, dataa: { x: '1' } } as KObject, { fieldValidation: 'Strict' }),
    400,
    'BadRequest',
  );
  t.regex(strict.status.message!, /unknown field "dataa"/);

  const r405 = await client.raw('POST', '/api/v1/namespaces/default/configmaps/dup', '{}');
  t.is(r405.status, 405);
  t.is(JSON.parse(r405.body).kind, 'Status');

  const r415 = await client.raw('PATCH', '/api/v1/namespaces/default/configmaps/dup', '{}', { 'Content-Type': 'text/plain' });
  t.is(r415.status, 415);
  t.is(JSON.parse(r415.body).reason, 'UnsupportedMediaType');

  const r404 = await client.raw('GET', '/api/v1/widgets');
  t.is(r404.status, 404);
  t.is(JSON.parse(r404.body).kind, 'Status');
  const rBad = await client.raw('POST', '/api/v1/namespaces/default/configmaps', '{not json');
  t.is(rBad.status, 400);
  t.is(JSON.parse(rBad.body).reason, 'BadRequest');
});

test('label and field selectors on lists', async (t) => {
  for (const [name, tier] of [['sel-a', 'front'], ['sel-b', 'back'], ['sel-c', 'front']]) {
    await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', labels: { group: 'sel', tier } } });
  }
  const front = await client.list(R.configmaps, { namespace: 'default', labelSelector: 'group=sel,tier=front' });
  t.deepEqual(front.items.map((i) => i.metadata.name), ['sel-a', 'sel-c']);
  const notFront = await client.list(R.configmaps, { namespace: 'default', labelSelector: 'group=sel,tier notin (front)' });
  t.deepEqual(notFront.items.map((i) => i.metadata.name), ['sel-b']);
  const byName = await client.list(R.configmaps, { fieldSelector: 'metadata.name=sel-b' });
  t.deepEqual(byName.items.map((i) => i.metadata.name), ['sel-b']);
  await expectStatus(t, client.list(R.configmaps, { labelSelector: 'tier in (' }), 400, 'BadRequest');
});

test('all-namespaces lists and namespaced paths', async (t) => {
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'in-other', namespace: 'other' } });
  const all = await client.list(R.configmaps);
  t.true(all.items.some((i) => i.metadata.namespace === 'other'));
  const only = await client.list(R.configmaps, { namespace: 'other' });
  t.true(only.items.every((i) => i.metadata.namespace === 'other'));
});

test('watch streams ADDED/MODIFIED/DELETED from a resourceVersion and resumes without gaps', async (t) => {
  const list = await client.list(R.configmaps, { namespace: 'default' });
  const events: WatchEvent[] = [];
  const w = client.watch(R.configmaps, { namespace: 'default', resourceVersion: list.metadata.resourceVersion, labelSelector: 'w=1' }, { onEvent: (e) => events.push(e) });
  await new Promise((r) => setTimeout(r, 100));
  await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched', namespace: 'default', labels: { w: '1' } } });
  await client.patch(R.configmaps, 'default', 'watched', 'merge', { data: { k: 'v' } });
  // Stops matching the selector: a filtered watch sees it as DELETED.
  await client.patch(R.configmaps, 'default', 'watched', 'merge', { metadata: { labels: { w: '2' } } });
  const deadline = Date.now() + 5000;
  while (events.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  w.stop();
  t.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);

  // Resume from the first event's resourceVersion: the rest is replayed.
  const replay: WatchEvent[] = [];
  const w2 = client.watch(R.configmaps, { namespace: 'default', resourceVersion: events[0].object.metadata.resourceVersion }, { onEvent: (e) => replay.push(e) });
  const d2 = Date.now() + 5000;
  while (replay.filter((e) => e.object.metadata.name === 'watched').length < 2 && Date.now() < d2) await new Promise((r) => setTimeout(r, 20));
  w2.stop();
  t.deepEqual(replay.filter((e) => e.object.metadata.name === 'watched').map((e) => e.type), ['MODIFIED', 'MODIFIED']);
});

test('after a restart, a watch from an older resourceVersion ends with an ERROR event carrying 410 Expired', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-api410-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let s2 = await startServer(defaultConfig({ dataDir: dir, apiPort: 0 }), [], silentLogger());
  let c2 = new HttpClient(loadConnection(s2.kubeconfigPath));
  const first = await c2.create<KObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old', namespace: 'default' } });
  await c2.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'newer', namespace: 'default' } });
  c2.close();
  await s2.stop();
  s2 = await startServer(defaultConfig({ dataDir: dir, apiPort: 0 }), [], silentLogger());
  c2 = new HttpClient(loadConnection(s2.kubeconfigPath));
  t.teardown(async () => {
    c2.close();
    await s2.stop();
  });
  // State survived the restart.
  t.is((await c2.get(R.configmaps, 'default', 'old')).metadata.uid, first.metadata.uid);
  const err = await new Promise<Error | undefined>((resolve) => {
    c2.watch(R.configmaps, { resourceVersion: first.metadata.resourceVersion }, { onEvent: () => undefined, onClose: resolve });
  });
  t.true(isStatusError(err), String(err));
  t.is((err as StatusError).status.code, 410);
  t.regex((err as StatusError).message, /too old resource version/);
});

test('Table responses carry kubectl columns and row objects', async (t) => {
  // A row of its own: the other tests' ConfigMaps may not exist yet (tests run concurrently).
  await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'table-row', namespace: 'default' } }).catch(() => undefined);
  const table = (await client.table(R.configmaps, { namespace: 'default' })) as KObject & { columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: KObject }[] };
  t.is(table.kind, 'Table');
  t.deepEqual(table.columnDefinitions.map((c) => c.name), ['Name', 'Data', 'Age']);
  t.true(table.rows.length > 0);
  t.is(table.rows[0].object.kind, 'PartialObjectMetadata');
  t.truthy(table.rows[0].object.metadata.name);
});

test('scale subresource reads and writes replicas', async (t) => {
  await client.create(R.deployments, { ...deployment('scaled'), metadata: { name: 'scaled', namespace: 'default', labels: { app: 'scaled' } } });
  const scale = await client.get(R.deployments, 'default', 'scaled', 'scale');
  t.is(scale.kind, 'Scale');
  t.is((scale as KObject & { spec: { replicas: number } }).spec.replicas, 2);
  const patched = await client.patch(R.deployments, 'default', 'scaled', 'merge', { spec: { replicas: 4 } }, { subresource: 'scale' });
  t.is((patched as KObject & { spec: { replicas: number } }).spec.replicas, 4);
  t.is((await client.get<Deployment>(R.deployments, 'default', 'scaled')).spec.replicas, 4);
});

test('status subresource writes only status; main PUT ignores status', async (t) => {
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'st', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  const created = await client.create(R.pods, pod);
  const withStatus = { ...created, status: { phase: 'Running' as const } };
  const afterPut = await client.update(R.pods, withStatus);
  t.not(afterPut.status?.phase, 'Running');
  const afterStatus = await client.update(R.pods, { ...afterPut, status: { phase: 'Running' as const } }, { subresource: 'status' });
  t.is(afterStatus.status?.phase, 'Running');
  // An unscheduled Pod is deleted at once.
  await client.delete(R.pods, 'default', 'st');
  await expectStatus(t, client.get(R.pods, 'default', 'st'), 404, 'NotFound');
});

test('binding assigns a node once; graceful Pod deletion marks deletionTimestamp', async (t) => {
  await client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } } as Pod);
  await client.createSubresource(R.pods, 'default', 'bound', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'node-a' } } as KObject);
  const pod = await client.get<Pod>(R.pods, 'default', 'bound');
  t.is(pod.spec.nodeName, 'node-a');
  t.is(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status, 'True');
  await expectStatus(t, client.createSubresource(R.pods, 'default', 'bound', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { name: 'node-b' } } as KObject), 409, 'Conflict');
  const deleting = (await client.delete(R.pods, 'default', 'bound')) as Pod;
  t.truthy(deleting.metadata.deletionTimestamp);
  t.is(deleting.metadata.deletionGracePeriodSeconds, 30);
  // Force deletion removes it.
  await client.delete(R.pods, 'default', 'bound', { gracePeriodSeconds: 0 });
  await expectStatus(t, client.get(R.pods, 'default', 'bound'), 404, 'NotFound');
});

test('generateName produces unique names', async (t) => {
  const a = await client.create<KObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-', namespace: 'default' } });
  const b = await client.create<KObject>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-', namespace: 'default' } });
  t.regex(a.metadata.name!, /^gen-[a-z0-9]{5}$/);
  t.not(a.metadata.name, b.metadata.name);
});

test('system namespaces cannot be deleted; deleting a namespace marks it Terminating', async (t) => {
  await expectStatus(t, client.delete(R.namespaces, undefined, 'default'), 403, 'Forbidden');
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
  const ns = (await client.delete(R.namespaces, undefined, 'doomed')) as KObject & { status: { phase: string } };
  t.is(ns.status.phase, 'Terminating');
  await expectStatus(t, client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'doomed' } }), 403, 'Forbidden');
});

test('server-side apply creates then updates, and dry-run writes nothing', async (t) => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default' }, data: { a: '1', b: '2' } };
  const r1 = await client.raw('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=test', JSON.stringify(cm), { 'Content-Type': 'application/apply-patch+yaml' });
  t.is(r1.status, 201, r1.body);
  const r2 = await client.raw('PATCH', '/api/v1/namespaces/default/configmaps/ssa?fieldManager=test', JSON.stringify({ ...cm, data: { a: '1' } }), { 'Content-Type': 'application/apply-patch+yaml' });
  t.is(r2.status, 200, r2.body);
  const got = await client.get<ConfigMap>(R.configmaps, 'default', 'ssa');
  t.deepEqual(got.data, { a: '1' });
  const dry = await client.raw('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' } }));
  t.is(dry.status, 201);
  await expectStatus(t, client.get(R.configmaps, 'default', 'dry'), 404, 'NotFound');
});
