// @kubernetes/client-node 1.4 (the official JavaScript client) against a real `kubelite server`, using
// only the kubeconfig the server writes: typed list/create/read/patch/delete, errors as Status, a
// Watch, an informer, and the generic KubernetesObjectApi (which reads discovery).

import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { cleanupInstance, startTestServer, waitFor, type TestServer } from '../helpers/server.js';

let server: TestServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let nsCounter = 0;

test.before(async () => {
  server = await startTestServer({ slot: 7, args: ['--disable', 'agent,scheduler,controllers,proxy,dns,ingress'] });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});

test.after.always(async () => {
  await server?.stop();
  cleanupInstance(server);
});

async function namespace(prefix: string): Promise<string> {
  const name = `${prefix}-${++nsCounter}`;
  await core.createNamespace({ body: { metadata: { name } } });
  return name;
}

const deployment = (name: string): k8s.V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'web', image: 'kubelite/echo:1', env: [{ name: 'A', value: '1' }] }] },
    },
  },
});

test('loadFromFile and list: namespaces, configmaps with a label selector', async (t) => {
  t.is(kc.getCurrentCluster()?.server, (await import('node:fs')).readFileSync(server.kubeconfig, 'utf8').match(/server: (\S+)/)![1]);
  const nsList = await core.listNamespace();
  t.true(nsList.items.some((n) => n.metadata?.name === 'default'));
  t.is(typeof nsList.metadata?.resourceVersion, 'string');

  const ns = await namespace('list');
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'a', labels: { tier: 'x' } }, data: { k: 'v' } } });
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'b', labels: { tier: 'y' } } } });
  const all = await core.listNamespacedConfigMap({ namespace: ns });
  // kube-root-ca.crt is in every namespace, as in Kubernetes.
  t.deepEqual(all.items.map((c) => c.metadata?.name).sort(), ['a', 'b', 'kube-root-ca.crt']);
  const x = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier=x' });
  t.deepEqual(x.items.map((c) => c.metadata?.name), ['a']);
  t.deepEqual(x.items[0].data, { k: 'v' });
  const read = await core.readNamespacedConfigMap({ name: 'a', namespace: ns });
  t.is(read.metadata?.namespace, ns);
  t.truthy(read.metadata?.uid);
  t.true(read.metadata?.creationTimestamp instanceof Date, 'timestamps parse as dates');
});

test('create, then merge, strategic and JSON patches of a Deployment', async (t) => {
  const ns = await namespace('patch');
  const created = await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web') });
  t.is(created.metadata?.generation, 1);
  t.is(created.spec?.template.spec?.containers[0].imagePullPolicy, 'IfNotPresent', 'server-side defaulting');

  const merged = await apps.patchNamespacedDeployment(
    { name: 'web', namespace: ns, body: { spec: { replicas: 3 }, metadata: { labels: { patched: 'merge' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  t.is(merged.spec?.replicas, 3);
  t.is(merged.metadata?.labels?.patched, 'merge');

  // A strategic merge patch merges containers by name and env by name (a merge patch would replace the
  // lists); without $setElementOrder, Kubernetes puts the patch's new items before the server's own.
  const strategic = await apps.patchNamespacedDeployment(
    { name: 'web', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'B', value: '2' }] }, { name: 'side', image: 'kubelite/echo:1' }] } } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
  const containers = strategic.spec?.template.spec?.containers ?? [];
  t.deepEqual(containers.map((c) => c.name), ['web', 'side']);
  t.deepEqual(containers[0].env?.map((e) => ({ ...e })), [{ name: 'B', value: '2' }, { name: 'A', value: '1' }]);
  t.is(containers[0].image, 'kubelite/echo:1');

  const jsonPatched = await apps.patchNamespacedDeployment(
    { name: 'web', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 5 }, { op: 'remove', path: '/metadata/labels/patched' }] },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
  );
  t.is(jsonPatched.spec?.replicas, 5);
  t.is(jsonPatched.metadata?.labels?.patched, undefined);
  t.is(jsonPatched.metadata?.generation, 4);

  const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: ns });
  t.is(scale.spec?.replicas, 5);
  t.is(scale.status?.selector, 'app=web');
});

test('errors are ApiExceptions carrying the Status: 404, 409, 422', async (t) => {
  const ns = await namespace('errors');
  const notFound = await t.throwsAsync(core.readNamespacedPod({ name: 'missing', namespace: ns }));
  t.true(notFound instanceof k8s.ApiException);
  const e404 = notFound as k8s.ApiException<string>;
  t.is(e404.code, 404);
  t.like(JSON.parse(e404.body), { kind: 'Status', reason: 'NotFound', message: 'pods "missing" not found', code: 404 });

  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dup' } } });
  const conflict = (await t.throwsAsync(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'dup' } } }))) as k8s.ApiException<string>;
  t.is(conflict.code, 409);
  t.is(JSON.parse(conflict.body).reason, 'AlreadyExists');

  const invalid = (await t.throwsAsync(
    core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'bad' }, spec: { ports: [{ port: 70000 }] } } }),
  )) as k8s.ApiException<string>;
  t.is(invalid.code, 422);
  const status = JSON.parse(invalid.body);
  t.is(status.reason, 'Invalid');
  t.true(status.details.causes.some((c: { field: string }) => c.field === 'spec.ports[0].port'));
});

test('delete: the object, then a 404; deletecollection by label', async (t) => {
  const ns = await namespace('delete');
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'gone' } } });
  // client-node types the answer as V1Status whatever the server sends (the object, for us).
  t.truthy(await core.deleteNamespacedConfigMap({ name: 'gone', namespace: ns }));
  const e = (await t.throwsAsync(core.readNamespacedConfigMap({ name: 'gone', namespace: ns }))) as k8s.ApiException<string>;
  t.is(e.code, 404);

  for (const name of ['x1', 'x2', 'keep']) {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels: { batch: name === 'keep' ? 'no' : 'yes' } } } });
  }
  await core.deleteCollectionNamespacedConfigMap({ namespace: ns, labelSelector: 'batch=yes' });
  t.deepEqual((await core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata?.name).filter((n) => n !== 'kube-root-ca.crt'), ['keep']);
});

test('Watch streams ADDED, MODIFIED and DELETED from a list resourceVersion', async (t) => {
  const ns = await namespace('watch');
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
  const list = await core.listNamespacedConfigMap({ namespace: ns });
  const events: [string, string][] = [];
  let doneErr: unknown = 'not done';
  const watch = new k8s.Watch(kc);
  const ctl = await watch.watch(
    `/api/v1/namespaces/${ns}/configmaps`,
    { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
    (phase, obj: k8s.V1ConfigMap) => events.push([phase, obj.metadata?.name ?? '']),
    (err) => (doneErr = err),
  );
  t.teardown(() => ctl.abort());
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'w' } } });
  await core.patchNamespacedConfigMap({ name: 'w', namespace: ns, body: { data: { a: 'b' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await core.deleteNamespacedConfigMap({ name: 'w', namespace: ns });
  await waitFor(() => events.length >= 3, 10_000, 'three watch events');
  t.deepEqual(events, [['ADDED', 'w'], ['MODIFIED', 'w'], ['DELETED', 'w']], 'nothing from before the list resourceVersion');
  t.is(doneErr, 'not done', 'the watch stays open');
});

test('Watch with a label selector on pods across all namespaces', async (t) => {
  const ns = await namespace('podwatch');
  const seen: string[] = [];
  const ctl = await new k8s.Watch(kc).watch('/api/v1/pods', { labelSelector: 'watched=yes' }, (phase, obj: k8s.V1Pod) => seen.push(`${phase} ${obj.metadata?.namespace}/${obj.metadata?.name}`), () => undefined);
  t.teardown(() => ctl.abort());
  const pod = (name: string, watched: string): k8s.V1Pod => ({ metadata: { name, labels: { watched } }, spec: { containers: [{ name: 'c', image: 'kubelite/echo:1' }] } });
  await core.createNamespacedPod({ namespace: ns, body: pod('a', 'yes') });
  await core.createNamespacedPod({ namespace: ns, body: pod('b', 'no') });
  await waitFor(() => seen.length >= 1, 10_000, 'the ADDED event');
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(seen, [`ADDED ${ns}/a`]);
});

test('makeInformer keeps a cache and calls add/update/delete', async (t) => {
  const ns = await namespace('informer');
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'pre' } } });
  const informer = k8s.makeInformer<k8s.V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
  const calls: string[] = [];
  informer.on('add', (o) => calls.push(`add ${o.metadata?.name}`));
  informer.on('update', (o) => calls.push(`update ${o.metadata?.name} ${o.data?.v ?? ''}`));
  informer.on('delete', (o) => calls.push(`delete ${o.metadata?.name}`));
  let failure: unknown;
  informer.on('error', (err) => (failure = err));
  await informer.start();
  t.teardown(() => informer.stop());
  await waitFor(() => calls.includes('add pre'), 10_000, 'the initial list');
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'live' } } });
  await waitFor(() => calls.includes('add live'), 10_000, 'add live');
  await core.patchNamespacedConfigMap({ name: 'live', namespace: ns, body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await waitFor(() => calls.includes('update live 2'), 10_000, 'update live');
  await core.deleteNamespacedConfigMap({ name: 'pre', namespace: ns });
  await waitFor(() => calls.includes('delete pre'), 10_000, 'delete pre');
  t.deepEqual(informer.list(ns).map((o) => o.metadata?.name).filter((n) => n !== 'kube-root-ca.crt'), ['live']);
  t.is(informer.get('live', ns)?.data?.v, '2');
  t.is(failure, undefined);
});

test('KubernetesObjectApi: create, read, server-side apply and delete through discovery', async (t) => {
  const ns = await namespace('generic');
  const client = k8s.KubernetesObjectApi.makeApiClient(kc);
  const spec = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } };
  const created = await client.create(spec);
  t.is(created.metadata?.name, 'web');
  const read = await client.read<k8s.V1Service>({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns } });
  t.is(read.spec?.ports?.[0].port, 80);
  const applied = await client.patch<k8s.V1Service>(
    { ...spec, spec: { ...spec.spec, ports: [{ port: 80, targetPort: 9090 }] } },
    undefined,
    undefined,
    'client-node-test',
    true,
    k8s.PatchStrategy.ServerSideApply,
  );
  t.is(applied.spec?.ports?.[0].targetPort, 9090);
  const d = deployment('gen');
  const dep = await client.create({ ...d, metadata: { ...d.metadata, namespace: ns } });
  t.is(dep.kind, 'Deployment');
  await client.delete({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns } });
  const e = (await t.throwsAsync(client.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns } }))) as k8s.ApiException<string>;
  t.is(e.code, 404);
});
