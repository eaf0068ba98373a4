// POST pods/NAME/eviction through the real registry (in-memory store): a budget that allows one more
// disruption is decremented and the Pod deleted; the next is refused with Kubernetes' 429; Pods no
// budget covers, Pending Pods and unhealthy Pods of a met budget go without taking from it; two
// budgets over one Pod are a 500 as upstream; dry runs change nothing. And the pure decrement.

import test from 'ava';
import type { KObject, Pod, PodDisruptionBudget } from '../../../../src/api/types.js';
import { R } from '../../../../src/api/resources.js';
import { isStatusError, type StatusError } from '../../../../src/api/errors.js';
import { Registry } from '../../../../src/server/registry.js';
import { openStore } from '../../../../src/store/index.js';
import { EVICTION_REFUSED, takeDisruption } from '../../../../src/server/strategies/eviction.js';

const NOW = new Date('2024-06-01T12:00:00Z');

async function cluster() {
  const registry = new Registry(await openStore(undefined));
  await registry.bootstrapNamespaces();
  return registry;
}

async function pod(registry: Registry, name: string, o: { ready?: boolean; phase?: 'Running' | 'Pending'; app?: string } = {}): Promise<void> {
  const created = await registry.create<Pod>(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: o.app ?? 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  if (o.phase === 'Pending') return;
  await registry.update<Pod>(R.pods, { ...created, status: { phase: 'Running', conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }] } }, { subresource: 'status' });
}

async function budget(registry: Registry, name: string, status: { allowed: number; healthy: number; desired: number }, selector = { app: 'web' }): Promise<void> {
  const created = await registry.create<PodDisruptionBudget>(R.poddisruptionbudgets, { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' }, spec: { minAvailable: status.desired, selector: { matchLabels: selector } } });
  await registry.update<PodDisruptionBudget>(
    R.poddisruptionbudgets,
    { ...created, status: { observedGeneration: created.metadata.generation, disruptionsAllowed: status.allowed, currentHealthy: status.healthy, desiredHealthy: status.desired, expectedPods: status.healthy, conditions: [{ type: 'DisruptionAllowed', status: status.allowed > 0 ? 'True' : 'False', reason: 'SufficientPods', message: '', lastTransitionTime: '2024-06-01T11:00:00Z' }] } },
    { subresource: 'status' },
  );
}

const evict = (registry: Registry, name: string, body: Record<string, unknown> = {}) => registry.createSubresource(R.pods, 'default', name, 'eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...body } as KObject);

async function gone(registry: Registry, name: string): Promise<boolean> {
  try {
    const p = await registry.get<Pod>(R.pods, 'default', name);
    return !!p.metadata.deletionTimestamp;
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return true;
    throw err;
  }
}

async function refusal(p: Promise<unknown>): Promise<StatusError['status']> {
  try {
    await p;
  } catch (err) {
    if (isStatusError(err)) return err.status;
    throw err;
  }
  throw new Error('expected the eviction to be refused');
}

test('the budget allows one: it is taken (disruptedPods), the Pod goes; the next eviction is a 429', async (t) => {
  const registry = await cluster();
  for (const n of ['a', 'b', 'c']) await pod(registry, n);
  await budget(registry, 'web', { allowed: 1, healthy: 3, desired: 2 });
  await evict(registry, 'a');
  t.true(await gone(registry, 'a'));
  const after = await registry.get<PodDisruptionBudget>(R.poddisruptionbudgets, 'default', 'web');
  t.is(after.status!.disruptionsAllowed, 0);
  t.deepEqual(Object.keys(after.status!.disruptedPods ?? {}), ['a']);
  t.like(after.status!.conditions![0], { status: 'False', reason: 'InsufficientPods' });
  const st = await refusal(evict(registry, 'b'));
  t.is(st.code, 429);
  t.is(st.reason, 'TooManyRequests');
  t.is(st.message, EVICTION_REFUSED);
  t.deepEqual(st.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 3 currently' }]);
  t.false(await gone(registry, 'b'));
});

test('Pods no budget covers, Pending Pods, and unhealthy Pods of a met budget are evicted without taking from it', async (t) => {
  const registry = await cluster();
  await pod(registry, 'other', { app: 'db' });
  await pod(registry, 'pending', { phase: 'Pending' });
  await pod(registry, 'sick', { ready: false });
  await pod(registry, 'ok');
  await budget(registry, 'web', { allowed: 0, healthy: 1, desired: 1 });
  for (const n of ['other', 'pending', 'sick']) {
    await evict(registry, n);
    t.true(await gone(registry, n), n);
  }
  const pdb = await registry.get<PodDisruptionBudget>(R.poddisruptionbudgets, 'default', 'web');
  t.is(pdb.status!.disruptedPods, undefined);
});

test('a dry run changes nothing; two budgets over one Pod are refused as upstream', async (t) => {
  const registry = await cluster();
  await pod(registry, 'a');
  await budget(registry, 'one', { allowed: 1, healthy: 1, desired: 0 });
  await evict(registry, 'a', { deleteOptions: { dryRun: ['All'] } });
  t.false(await gone(registry, 'a'));
  t.is((await registry.get<PodDisruptionBudget>(R.poddisruptionbudgets, 'default', 'one')).status!.disruptionsAllowed, 1);
  await budget(registry, 'two', { allowed: 1, healthy: 1, desired: 0 });
  const st = await refusal(evict(registry, 'a'));
  t.is(st.code, 500);
  t.regex(st.message!, /more than one PodDisruptionBudget/);
});

test('takeDisruption: a budget not yet processed is a 429; a negative one a 403; otherwise one is taken', (t) => {
  const pdb: PodDisruptionBudget = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation: 2 }, spec: {}, status: { observedGeneration: 1, disruptionsAllowed: 2, currentHealthy: 3, desiredHealthy: 1, expectedPods: 3 } };
  const stale = t.throws(() => takeDisruption(pdb, 'a', NOW)) as StatusError;
  t.is(stale.status.code, 429);
  t.deepEqual(stale.status.details?.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }]);
  const fresh = { ...pdb, status: { ...pdb.status!, observedGeneration: 2 } };
  const next = takeDisruption(fresh, 'a', NOW);
  t.is(next.status!.disruptionsAllowed, 1);
  t.deepEqual(next.status!.disruptedPods, { a: '2024-06-01T12:00:00Z' });
  t.is(fresh.status.disruptionsAllowed, 2, 'the input is not changed');
  const negative = t.throws(() => takeDisruption({ ...fresh, status: { ...fresh.status, disruptionsAllowed: -1 } }, 'a', NOW)) as StatusError;
  t.is(negative.status.code, 403);
});
