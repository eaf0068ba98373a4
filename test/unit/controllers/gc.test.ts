import test from 'ava';
import type { ConfigMap, Deployment, KObject, Namespace, Pod, ReplicaSet } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { expiredEvents } from '../../../src/controllers/namespace.js';
import { deployment, isReady, startCluster, until, type TestCluster } from './fixtures.js';

async function exists(c: TestCluster, res: typeof R.deployments, name: string, namespace = 'default'): Promise<KObject | undefined> {
  try {
    return await c.registry.get(res, res.namespaced ? namespace : undefined, name);
  } catch {
    return undefined;
  }
}

async function rolledOut(c: TestCluster, replicas: number, namespace = 'default') {
  await until(async () => {
    const p = await c.pods(namespace);
    return p.length === replicas && p.every(isReady);
  }, `${replicas} ready pods`);
}

test('deleting a Deployment (background) deletes its ReplicaSets and their pods', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'gc', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 3 }));
  await rolledOut(c, 3);
  await c.registry.delete(R.deployments, 'default', 'web', { propagationPolicy: 'Background' });
  t.falsy(await exists(c, R.deployments, 'web'), 'background deletion removes the owner at once');
  await until(async () => (await c.replicaSets()).length === 0 && (await c.pods()).length === 0, 'ReplicaSets and pods gone');
  t.deepEqual(await c.pods(), []);
});

test('orphan: dependents lose the owner reference and stay; the finalizer comes off', async (t) => {
  // No periodic pass: the collector must act on the owner's deletion itself, not 30 s later.
  const c = await startCluster(['rs', 'deploy', 'gc', 'scheduler', 'kubelet'], { gcResyncSchedule: '' });
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 2 }));
  await rolledOut(c, 2);
  const deleting = (await c.registry.delete(R.deployments, 'default', 'web', { propagationPolicy: 'Orphan' })) as Deployment;
  t.deepEqual(deleting.metadata.finalizers, ['orphan']);
  await until(async () => !(await exists(c, R.deployments, 'web')), 'Deployment gone', 5_000);
  const rss = await c.replicaSets();
  t.is(rss.length, 1);
  t.falsy(rss[0].metadata.ownerReferences?.length, 'the ReplicaSet is an orphan now');
  // Its pods are still its own and still running.
  const pods = await c.pods();
  t.is(pods.length, 2);
  t.true(pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === rss[0].metadata.uid));
});

test('foreground: the owner stays until its dependents are gone, deepest first', async (t) => {
  // No periodic pass (it used to hide that each level waited for the next one): the dependents are
  // queued as soon as their owner is marked foregroundDeletion, so this ends in the pods' stop time.
  const c = await startCluster(['rs', 'deploy', 'gc', 'scheduler', 'kubelet'], { kubelet: { stopDelayMs: 300 }, gcResyncSchedule: '' });
  t.teardown(() => c.stop());
  await c.registry.create(R.deployments, deployment('web', { replicas: 2 }));
  await rolledOut(c, 2);
  const seen: string[] = [];
  const sub = c.registry.store.watch({}, (ev) => {
    if (ev.type === 'DELETED' && ['Deployment', 'ReplicaSet', 'Pod'].includes(ev.object.kind)) seen.push(ev.object.kind);
  });
  t.teardown(() => sub.stop());
  await c.registry.delete(R.deployments, 'default', 'web', { propagationPolicy: 'Foreground' });
  // While the pods take their time to stop, the Deployment and ReplicaSet wait with foregroundDeletion.
  const rs = await until(async () => {
    const r = (await c.replicaSets())[0];
    return r?.metadata.deletionTimestamp && r;
  }, 'ReplicaSet deleting in foreground');
  t.deepEqual(rs.metadata.finalizers, ['foregroundDeletion']);
  const d = await exists(c, R.deployments, 'web');
  t.truthy(d, 'the Deployment waits for its ReplicaSet');
  t.deepEqual(d!.metadata.finalizers, ['foregroundDeletion']);
  await until(async () => !(await exists(c, R.deployments, 'web')), 'Deployment gone', 8_000);
  t.deepEqual(await c.pods(), []);
  t.deepEqual(await c.replicaSets(), []);
  t.deepEqual(seen, ['Pod', 'Pod', 'ReplicaSet', 'Deployment']);
});

test('dangling owners of watched kinds are collected; owners the collector cannot see keep their dependents', async (t) => {
  const c = await startCluster(['gc']);
  t.teardown(() => c.stop());
  const svc = await c.registry.create<KObject>(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }], selector: { app: 'web' } } });
  const cm = (name: string, owner: { apiVersion: string; kind: string; name: string; uid: string }): ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ownerReferences: [{ ...owner, controller: true }] },
    data: { a: 'b' },
  });
  await c.registry.create(R.configmaps, cm('of-live-service', { apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid! }));
  await c.registry.create(R.configmaps, cm('of-gone-service', { apiVersion: 'v1', kind: 'Service', name: 'old', uid: 'c0ffee00-0000-0000-0000-000000000000' }));
  await c.registry.create(R.configmaps, cm('of-node', { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'c0ffee00-0000-0000-0000-000000000001' }));
  await c.registry.create(R.configmaps, cm('of-unknown-kind', { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'c0ffee00-0000-0000-0000-000000000002' }));
  await until(async () => !(await exists(c, R.configmaps, 'of-gone-service')), 'dependent of a missing Service collected');
  await new Promise((r) => setTimeout(r, 200));
  await c.gc!.idle();
  t.truthy(await exists(c, R.configmaps, 'of-live-service'));
  t.truthy(await exists(c, R.configmaps, 'of-node'), 'Nodes are not watched: never assume they are gone');
  t.truthy(await exists(c, R.configmaps, 'of-unknown-kind'));
  // The owner goes: so does its dependent.
  await c.registry.delete(R.services, 'default', 'web');
  await until(async () => !(await exists(c, R.configmaps, 'of-live-service')), 'dependent of the deleted Service collected');
});

test('an owner recreated under the same name (new uid) does not keep the old dependents', async (t) => {
  const c = await startCluster(['gc']);
  t.teardown(() => c.stop());
  const first = await c.registry.create<KObject>(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } });
  await c.registry.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dep', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: first.metadata.uid! }] }, data: {} });
  await c.gc!.stop();
  await c.registry.delete(R.services, 'default', 'web');
  await c.registry.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } });
  await c.gc!.start(c.ctx);
  await until(async () => !(await exists(c, R.configmaps, 'dep')), 'dependent of the first Service collected');
  t.truthy(await exists(c, R.services, 'web'));
});

test('a deleted namespace is left alone for the grace period: a client deleting its manifest (Namespace first) deletes the rest itself', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'gc', 'ns']);
  t.teardown(() => c.stop());
  await c.registry.create<Namespace>(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app' } });
  await c.registry.create(R.deployments, deployment('web', { replicas: 1, namespace: 'app' }));
  await c.registry.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'app' }, data: { k: 'v' } });
  await c.registry.delete(R.namespaces, undefined, 'app');
  // kubectl deletes the manifest's next objects right after the Namespace; they must still be there
  // (the controller used to empty the namespace within milliseconds, and kubectl got 404s).
  await new Promise((r) => setTimeout(r, 1000));
  const d = (await c.registry.delete(R.deployments, 'app', 'web')) as Deployment;
  t.is(d.metadata.name, 'web');
  const cm = (await c.registry.delete(R.configmaps, 'app', 'cfg')) as ConfigMap;
  t.is(cm.metadata.name, 'cfg');
  // And then the controller empties what is left (the ReplicaSet) and removes the namespace.
  await until(async () => !(await exists(c, R.namespaces, 'app')), 'namespace gone', 15_000);
});

test('deleting a namespace empties it (pods gracefully) and then removes it', async (t) => {
  const c = await startCluster(['rs', 'deploy', 'gc', 'ns', 'scheduler', 'kubelet'], { kubelet: { stopDelayMs: 100 } });
  t.teardown(() => c.stop());
  await c.registry.create<Namespace>(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  await c.registry.create(R.deployments, deployment('web', { replicas: 2, namespace: 'team' }));
  await c.registry.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'team' }, data: { k: 'v' } });
  await c.registry.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'team' }, spec: { ports: [{ port: 80 }] } });
  await rolledOut(c, 2, 'team');
  await c.registry.delete(R.namespaces, undefined, 'team');
  const ns = await c.registry.get<Namespace>(R.namespaces, undefined, 'team');
  t.is(ns.status?.phase, 'Terminating');
  await t.throwsAsync(c.registry.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'team' } }), { message: /because it is being terminated/ });
  await until(async () => !(await exists(c, R.namespaces, 'team')), 'namespace gone', 15_000);
  for (const res of [R.pods, R.replicasets, R.deployments, R.configmaps, R.services]) {
    t.deepEqual((await c.registry.list(res, { namespace: 'team' })).items, [], `${res.plural} left behind`);
  }
  // Other namespaces are untouched.
  t.truthy(await exists(c, R.namespaces, 'default'));
});

test('Events expire after their TTL', async (t) => {
  const c = await startCluster(['ns']);
  t.teardown(() => c.stop());
  const now = new Date();
  const at = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');
  const ev = (name: string, last: string) => ({ apiVersion: 'v1', kind: 'Event', metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Test', message: 'm', lastTimestamp: last, firstTimestamp: last, count: 1 });
  await c.registry.create(R.events, ev('old', at(2 * 3600_000)));
  await c.registry.create(R.events, ev('recent', at(60_000)));
  t.deepEqual(expiredEvents((await c.events()) as never, 3600, now).map((e) => e.metadata.name), ['old']);
  t.is(await c.ns!.sweepEvents(now), 1);
  t.deepEqual((await c.events()).map((e) => e.metadata.name), ['recent']);
});

test('pods of a ReplicaSet deleted while the controllers were down are collected after a restart', async (t) => {
  const c = await startCluster(['rs', 'gc', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  await c.registry.create<ReplicaSet>(R.replicasets, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'a', image: 'kubelite/echo:1' }] } } } });
  await rolledOut(c, 2);
  await c.gc!.stop();
  await c.rs!.stop();
  await c.registry.delete(R.replicasets, 'default', 'web');
  await new Promise((r) => setTimeout(r, 50));
  t.is((await c.pods()).length, 2, 'nothing collects while the collector is down');
  await c.gc!.start(c.ctx);
  await until(async () => (await c.pods()).length === 0, 'pods collected');
  t.deepEqual(await c.pods(), [] as Pod[]);
});
