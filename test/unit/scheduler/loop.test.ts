import test from 'ava';
import type { Pod } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { node, replicaSet, startCluster, until, type TestCluster } from '../controllers/fixtures.js';

function pod(name: string, memory?: string, extra: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'kubelite/echo:1', ...(memory ? { resources: { requests: { memory } } } : {}) }], ...extra },
  };
}

async function getPod(c: TestCluster, name: string): Promise<Pod> {
  return c.registry.get<Pod>(R.pods, 'default', name);
}

test('binds a pending pod, with PodScheduled=True and a Scheduled event', async (t) => {
  const c = await startCluster(['scheduler']);
  t.teardown(() => c.stop());
  await c.registry.create(R.pods, pod('web-abc'));
  const p = await until(async () => {
    const cur = await getPod(c, 'web-abc');
    return cur.spec.nodeName && cur;
  }, 'bound');
  t.is(p.spec.nodeName, 'node1');
  t.is(p.status?.conditions?.find((x) => x.type === 'PodScheduled')?.status, 'True');
  const ev = await until(async () => (await c.events('Scheduled'))[0], 'Scheduled event');
  t.is(ev.message, 'Successfully assigned default/web-abc to node1');
  t.is(ev.type, 'Normal');
  t.is(ev.source?.component, 'default-scheduler');
  t.is(ev.involvedObject.name, 'web-abc');
});

test('an unschedulable pod stays Pending with the reason, and is bound once a node with room appears', async (t) => {
  const c = await startCluster(['scheduler'], { nodes: [node('small', { memory: '1Gi' })] });
  t.teardown(() => c.stop());
  await c.registry.create(R.pods, pod('big', '2Gi'));
  const want = '0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
  const cond = await until(async () => (await getPod(c, 'big')).status?.conditions?.find((x) => x.type === 'PodScheduled'), 'PodScheduled condition');
  t.like(cond, { status: 'False', reason: 'Unschedulable', message: want });
  const ev = await until(async () => (await c.events('FailedScheduling'))[0], 'FailedScheduling event');
  t.is(ev.type, 'Warning');
  t.is(ev.message, want);
  t.falsy((await getPod(c, 'big')).spec.nodeName);
  t.is((await getPod(c, 'big')).status?.phase, 'Pending');

  await c.registry.create(R.nodes, node('large', { memory: '4Gi' }));
  const bound = await until(async () => {
    const cur = await getPod(c, 'big');
    return cur.spec.nodeName && cur;
  }, 'bound after a node appeared');
  t.is(bound.spec.nodeName, 'large');
  t.is(bound.status?.conditions?.find((x) => x.type === 'PodScheduled')?.status, 'True');
});

test('a pod waits when no node is ready, then is retried when the node becomes ready', async (t) => {
  const c = await startCluster(['scheduler'], { nodes: [node('n1', { ready: false })] });
  t.teardown(() => c.stop());
  await c.registry.create(R.pods, pod('p'));
  const cond = await until(async () => (await getPod(c, 'p')).status?.conditions?.find((x) => x.type === 'PodScheduled'), 'condition');
  t.regex(cond.message!, /^0\/1 nodes are available: 1 node\(s\) had untolerated taint \{node.kubernetes.io\/not-ready: \}\./);
  await c.registry.update(R.nodes, node('n1', { ready: true }), { subresource: 'status' });
  await until(async () => (await getPod(c, 'p')).spec.nodeName === 'n1', 'bound when ready');
  t.is((await getPod(c, 'p')).spec.nodeName, 'n1');
});

test('capacity freed by a deleted pod is reused; pods of one ReplicaSet spread over nodes', async (t) => {
  const c = await startCluster(['scheduler', 'rs'], { nodes: [node('a', { memory: '1Gi' }), node('b', { memory: '1Gi' })] });
  t.teardown(() => c.stop());
  await c.registry.create(R.pods, pod('hog', '1Gi', { nodeName: 'a' }));
  await c.registry.create(R.pods, pod('second', '1Gi'));
  await until(async () => (await getPod(c, 'second')).spec.nodeName === 'b', 'second on b');
  await c.registry.create(R.pods, pod('third', '1Gi'));
  await until(async () => (await getPod(c, 'third')).status?.conditions?.some((x) => x.reason === 'Unschedulable'), 'third unschedulable');
  t.regex((await getPod(c, 'third')).status!.conditions!.find((x) => x.type === 'PodScheduled')!.message!, /^0\/2 nodes are available: 2 Insufficient memory\./);
  // Without a node agent the pod goes at once (it is bound but nothing runs it: grace 0).
  await c.registry.delete(R.pods, 'default', 'hog', { gracePeriodSeconds: 0 });
  await until(async () => (await getPod(c, 'third')).spec.nodeName === 'a', 'third on a');

  await c.registry.create(R.replicasets, replicaSet('spread', { replicas: 4 }));
  const pods = await until(async () => {
    const p = (await c.pods()).filter((x) => x.metadata.labels?.app === 'spread');
    return p.length === 4 && p.every((x) => x.spec.nodeName) && p;
  }, '4 spread pods bound');
  const perNode = new Map<string, number>();
  for (const p of pods) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
  t.deepEqual([...perNode.values()].sort(), [2, 2]);
});

test('many pending pods are bound once each, none twice', async (t) => {
  const c = await startCluster(['scheduler', 'rs']);
  t.teardown(() => c.stop());
  let bindings = 0;
  const sub = c.registry.store.watch({ resource: R.pods }, (ev) => {
    if (ev.type === 'MODIFIED' && !(ev.oldObject as Pod).spec.nodeName && (ev.object as Pod).spec.nodeName) bindings++;
  });
  t.teardown(() => sub.stop());
  await c.registry.create(R.replicasets, replicaSet('web', { replicas: 30 }));
  await until(async () => {
    const p = await c.pods();
    return p.length === 30 && p.every((x) => x.spec.nodeName);
  }, '30 bound');
  await new Promise((r) => setTimeout(r, 100));
  t.is(bindings, 30);
  t.is((await c.events('Scheduled')).length, 30);
  t.is((await c.events('FailedScheduling')).length, 0);
});
