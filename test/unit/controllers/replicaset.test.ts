import test from 'ava';
import type { Pod, ReplicaSet } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { errors } from '../../../src/api/errors.js';
import { activePods, isReady, ownerUid, replicaSet, startCluster, until } from './fixtures.js';

test('a ReplicaSet creates its pods from the template, owned by it, with SuccessfulCreate events and status', async (t) => {
  const c = await startCluster(['rs', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  const rs = await c.registry.create<ReplicaSet>(R.replicasets, replicaSet('web', { replicas: 3 }));
  const pods = await until(async () => {
    const p = await c.pods();
    return p.length === 3 && p.every(isReady) && p;
  }, '3 ready pods');
  for (const p of pods) {
    t.regex(p.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    t.deepEqual(p.metadata.labels, { app: 'web' });
    t.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }]);
    t.is(p.spec.nodeName, 'node1');
  }
  const status = await until(async () => {
    const cur = await c.registry.get<ReplicaSet>(R.replicasets, 'default', 'web');
    return cur.status?.readyReplicas === 3 && cur.status;
  }, 'status readyReplicas 3');
  t.like(status, { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
  const created = (await c.events('SuccessfulCreate')).map((e) => e.message).sort();
  t.deepEqual(created, pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
  t.true((await c.events('SuccessfulCreate')).every((e) => e.involvedObject.kind === 'ReplicaSet' && e.source?.component === 'replicaset-controller'));
});

test('never creates more pods than replicas while its cache catches up', async (t) => {
  const c = await startCluster(['rs']);
  t.teardown(() => c.stop());
  let max = 0;
  const live = new Set<string>();
  const sub = c.registry.store.watch({ resource: R.pods }, (ev) => {
    // Counted synchronously with every change of the store.
    const key = ev.object.metadata.name!;
    if (ev.type === 'DELETED' || activePods([ev.object as Pod]).length === 0) live.delete(key);
    else live.add(key);
    max = Math.max(max, live.size);
  });
  t.teardown(() => sub.stop());
  await c.registry.create(R.replicasets, replicaSet('web', { replicas: 20 }));
  await until(async () => (await c.pods()).length === 20, '20 pods');
  await new Promise((r) => setTimeout(r, 200));
  await c.rs!.idle();
  t.is((await c.pods()).length, 20);
  t.is(max, 20);
});

test('scales up and down; surplus goes not-ready first, then newest first', async (t) => {
  const readySet = new Set<string>();
  const c = await startCluster(['rs', 'scheduler', 'kubelet'], { kubelet: { ready: (p) => readySet.has(p.metadata.name!) } });
  t.teardown(() => c.stop());
  await c.registry.create(R.replicasets, replicaSet('web', { replicas: 3 }));
  const first = await until(async () => {
    const p = await c.pods();
    return p.length === 3 && p.every((x) => x.status?.phase === 'Running') && p;
  }, '3 running pods');
  for (const p of first) readySet.add(p.metadata.name!);
  c.kubelet!.resync();
  await until(async () => (await c.pods()).filter(isReady).length === 3, '3 ready');

  // 3 -> 6: three more pods that never become ready
  await c.registry.patch(R.replicasets, 'default', 'web', 'merge', { spec: { replicas: 6 } }, { subresource: 'scale' });
  const six = await until(async () => {
    const p = await c.pods();
    return p.length === 6 && p.every((x) => x.status?.phase === 'Running') && p;
  }, '6 running pods');
  t.is(six.filter(isReady).length, 3);

  const firstNames = first.map((p) => p.metadata.name!).sort();
  // 6 -> 2: the 3 not-ready go first, then the newest of the ready ones.
  await c.registry.patch(R.replicasets, 'default', 'web', 'merge', { spec: { replicas: 2 } }, { subresource: 'scale' });
  const left = await until(async () => {
    const p = await c.pods();
    return p.length === 2 && p;
  }, '2 pods left');
  t.true(left.every(isReady), 'only ready pods are kept');
  t.true(left.every((p) => firstNames.includes(p.metadata.name!)));
  const deleted = (await c.events('SuccessfulDelete')).map((e) => e.message);
  t.is(deleted.length, 4);
  for (const p of six.filter((x) => !isReady(x))) t.true(deleted.includes(`Deleted pod: ${p.metadata.name}`));
  const st = await until(async () => {
    const cur = await c.registry.get<ReplicaSet>(R.replicasets, 'default', 'web');
    return cur.status?.replicas === 2 && cur.status;
  }, 'status replicas 2');
  t.is(st.readyReplicas, 2);
});

test('among ready pods the one ready most recently is deleted first', async (t) => {
  const c = await startCluster(['rs', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  await c.registry.create(R.replicasets, replicaSet('web', { replicas: 2 }));
  const pods = await until(async () => {
    const p = await c.pods();
    return p.length === 2 && p.every(isReady) && p;
  }, '2 ready pods');
  // Backdate one pod's readiness: the other is then the more recently ready one and goes first.
  const [old, recent] = pods;
  const backdated = structuredClone(old);
  backdated.status!.conditions = backdated.status!.conditions!.map((x) => (x.type === 'Ready' ? { ...x, lastTransitionTime: '2020-01-01T00:00:00Z' } : x));
  await c.registry.update(R.pods, backdated, { subresource: 'status' });
  await c.registry.patch(R.replicasets, 'default', 'web', 'merge', { spec: { replicas: 1 } }, { subresource: 'scale' });
  const left = await until(async () => {
    const p = await c.pods();
    return p.length === 1 && p;
  }, 'one pod left');
  t.is(left[0].metadata.name, old.metadata.name);
  t.not(left[0].metadata.name, recent.metadata.name);
});

test('adopts a matching orphan pod instead of creating one more', async (t) => {
  const c = await startCluster(['rs']);
  t.teardown(() => c.stop());
  await c.registry.create<Pod>(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'kubelite/echo:1' }] } });
  const rs = await c.registry.create<ReplicaSet>(R.replicasets, replicaSet('web', { replicas: 2 }));
  const pods = await until(async () => {
    const p = await c.pods();
    return p.length === 2 && p.every((x) => ownerUid(x) === rs.metadata.uid) && p;
  }, 'two owned pods');
  t.true(pods.some((p) => p.metadata.name === 'stray'), 'the orphan was adopted');
  await new Promise((r) => setTimeout(r, 100));
  t.is((await c.pods()).length, 2);
  t.is((await c.events('SuccessfulCreate')).length, 1);
});

test('releases a pod whose labels no longer match and replaces it', async (t) => {
  const c = await startCluster(['rs']);
  t.teardown(() => c.stop());
  const rs = await c.registry.create<ReplicaSet>(R.replicasets, replicaSet('web', { replicas: 2 }));
  const pods = await until(async () => {
    const p = await c.pods();
    return p.length === 2 && p;
  }, '2 pods');
  const victim = pods[0].metadata.name!;
  await c.registry.patch(R.pods, 'default', victim, 'merge', { metadata: { labels: { app: 'debug' } } });
  const after = await until(async () => {
    const p = await c.pods();
    return p.length === 3 && p;
  }, 'a replacement pod');
  const released = after.find((p) => p.metadata.name === victim)!;
  t.falsy(released.metadata.ownerReferences?.length, 'the relabelled pod lost its owner reference');
  t.is(after.filter((p) => ownerUid(p) === rs.metadata.uid).length, 2);
});

test('a failing pod create gives FailedCreate events and a ReplicaFailure condition, cleared once creates succeed', async (t) => {
  const c = await startCluster(['rs']);
  t.teardown(() => c.stop());
  let refuse = true;
  c.registry.addAdmission({
    resource: R.pods,
    admit: async (ctx) => {
      if (ctx.op === 'create' && refuse) throw errors.forbidden(R.pods, 'x', 'exceeded quota: pods');
      return undefined;
    },
  });
  await c.registry.create(R.replicasets, replicaSet('web', { replicas: 2 }));
  const cond = await until(async () => {
    const cur = await c.registry.get<ReplicaSet>(R.replicasets, 'default', 'web');
    return cur.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
  }, 'ReplicaFailure');
  t.is(cond.reason, 'FailedCreate');
  t.regex(cond.message!, /exceeded quota: pods/);
  const ev = await until(async () => (await c.events('FailedCreate'))[0], 'FailedCreate event');
  t.is(ev.type, 'Warning');
  t.regex(ev.message!, /^Error creating: .*exceeded quota: pods/);
  refuse = false;
  await until(async () => (await c.pods()).length === 2, '2 pods once allowed', 15_000);
  await until(async () => {
    const cur = await c.registry.get<ReplicaSet>(R.replicasets, 'default', 'web');
    return !cur.status?.conditions?.some((x) => x.type === 'ReplicaFailure');
  }, 'ReplicaFailure cleared');
  t.is((await c.pods()).length, 2);
});

test('a deleted pod is replaced; a ReplicaSet being deleted creates nothing', async (t) => {
  const c = await startCluster(['rs']);
  t.teardown(() => c.stop());
  await c.registry.create(R.replicasets, replicaSet('web', { replicas: 2 }));
  const pods = await until(async () => {
    const p = await c.pods();
    return p.length === 2 && p;
  }, '2 pods');
  await c.registry.delete(R.pods, 'default', pods[0].metadata.name!);
  const after = await until(async () => {
    const p = await c.pods();
    return p.length === 2 && !p.some((x) => x.metadata.name === pods[0].metadata.name) && p;
  }, 'replacement');
  t.is(after.length, 2);
  // Orphan policy keeps the ReplicaSet around (finalizer) while it is being deleted.
  await c.registry.delete(R.replicasets, 'default', 'web', { propagationPolicy: 'Orphan' });
  await c.registry.delete(R.pods, 'default', after[0].metadata.name!);
  await new Promise((r) => setTimeout(r, 150));
  t.is((await c.pods()).length, 1);
});

test('minReadySeconds: pods count as available only after being ready that long, without another event', async (t) => {
  const c = await startCluster(['rs', 'scheduler', 'kubelet']);
  t.teardown(() => c.stop());
  const rs = replicaSet('web', { replicas: 2 });
  // Long enough that a loaded machine still sees the ready-but-not-available state.
  rs.spec.minReadySeconds = 4;
  await c.registry.create(R.replicasets, rs);
  const ready = await until(async () => {
    const cur = await c.registry.get<ReplicaSet>(R.replicasets, 'default', 'web');
    return cur.status?.readyReplicas === 2 && cur.status;
  }, 'ready');
  t.is(ready.availableReplicas ?? 0, 0, 'ready, but not for minReadySeconds yet');
  const avail = await until(async () => {
    const cur = await c.registry.get<ReplicaSet>(R.replicasets, 'default', 'web');
    return cur.status?.availableReplicas === 2 && cur.status;
  }, 'available after minReadySeconds', 10_000);
  t.is(avail.readyReplicas, 2);
});
