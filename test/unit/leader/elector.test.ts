// Two candidates on one store (what two servers on one etcd are): exactly one leads; a clean stop
// hands over at once; a leader that vanishes is replaced after one lease duration.

import test from 'ava';
import { Registry } from '../../../src/server/registry.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { LeaderElector } from '../../../src/leader/elector.js';
import { R } from '../../../src/api/resources.js';
import type { Lease } from '../../../src/api/types.js';

const timings = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 };

async function cluster(t: import('ava').ExecutionContext) {
  const store = new MemoryStore();
  await store.open();
  const registry = new Registry(store);
  await registry.bootstrapNamespaces();
  const log: string[] = [];
  const make = (id: string) => {
    const e = new LeaderElector({ client: registry, namespace: 'kube-system', name: 'kubelite-leader', identity: id, timings, onStartedLeading: () => void log.push(`${id} leads`), onStoppedLeading: () => void log.push(`${id} stops`) });
    t.teardown(() => e.stop());
    return e;
  };
  return { registry, log, make };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('not in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('one of two candidates leads; a clean stop releases the Lease and the other takes over at once', async (t) => {
  const { registry, log, make } = await cluster(t);
  const a = make('a');
  a.start();
  await until(() => a.isLeader);
  const b = make('b');
  b.start();
  await new Promise((r) => setTimeout(r, 300));
  t.false(b.isLeader);
  const t0 = Date.now();
  await a.stop();
  await until(() => b.isLeader);
  t.true(Date.now() - t0 < timings.leaseDurationMs, 'a released Lease is taken before it would expire');
  t.deepEqual(log, ['a leads', 'a stops', 'b leads']);
  const lease = await registry.get<Lease>(R.leases, 'kube-system', 'kubelite-leader');
  t.is(lease.spec?.holderIdentity, 'b');
  t.is(lease.spec?.leaseTransitions, 1);
});

test('a leader that vanishes (no release) is replaced after one lease duration, never sooner', async (t) => {
  const { log, make } = await cluster(t);
  const a = make('a');
  a.start();
  await until(() => a.isLeader);
  const b = make('b');
  b.start();
  // Vanish: stop renewing without handing over (what kill -9 does).
  (a as unknown as { stopped: boolean }).stopped = true;
  const t0 = Date.now();
  await until(() => b.isLeader);
  t.true(Date.now() - t0 >= timings.leaseDurationMs - timings.retryPeriodMs, `taken over after ${Date.now() - t0} ms`);
  t.deepEqual(log.filter((l) => l.endsWith('leads')), ['a leads', 'b leads']);
});
