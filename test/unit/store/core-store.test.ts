// Store semantics: the shared contract (test/helpers/store-contract.ts) against the memory and LevelDB
// backends (etcd runs it in etcd-store.test.ts), plus what only CoreStore promises: one resourceVersion
// per write, counted from 1, and group commit checking writes issued together in order.

import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { R } from '../../../src/api/resources.js';
import type { KObject } from '../../../src/api/types.js';
import type { Store } from '../../../src/store/types.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { LevelStore } from '../../../src/store/level-store.js';
import { CoreStore, type PersistWrite } from '../../../src/store/core-store.js';
import { configMap, tempDir } from '../../helpers/store-fixtures.js';
import { collect, rejectsWith, storeContract } from '../../helpers/store-contract.js';

type Make = (t: ExecutionContext, opts?: { eventLogSize?: number }) => Promise<Store>;

const impls: { name: string; make: Make }[] = [
  {
    name: 'memory',
    make: async (t, opts = {}) => {
      const s = new MemoryStore(opts);
      await s.open();
      t.teardown(() => s.close());
      return s;
    },
  },
  {
    name: 'level',
    make: async (t, opts = {}) => {
      const dir = await tempDir(t);
      const s = new LevelStore({ ...opts, path: path.join(dir, 'store') });
      await s.open();
      // Registered after tempDir's teardown, so it runs first (ava runs teardowns in reverse).
      t.teardown(() => s.close());
      return s;
    },
  },
];

const summary = (events: { type: string; resource: { plural: string }; object: KObject; rv: number }[]) => events.map((e) => `${e.type} ${e.resource.plural} ${e.object.metadata.namespace ?? ''}/${e.object.metadata.name} ${e.rv}`);

for (const { name: impl, make } of impls) {
  storeContract(test, impl, make, { perOpBatchRv: true });

  test(`${impl}: an empty store is at rv 1 and each write takes the next one`, async (t) => {
    const s = await make(t);
    t.is(s.currentResourceVersion(), '1');
    const created = await s.create(R.configmaps, configMap('default', 'a'));
    t.is(created.metadata.resourceVersion, '2');
    await rejectsWith(t, s.create(R.configmaps, configMap('default', 'a')), 409, 'AlreadyExists');
    t.is((await s.update(R.configmaps, configMap('default', 'a', { n: '1' }))).metadata.resourceVersion, '3');
    const concurrent = await Promise.all(Array.from({ length: 5 }, (_, i) => s.create(R.configmaps, configMap('default', `p${i}`))));
    t.deepEqual(concurrent.map((o) => o.metadata.resourceVersion), ['4', '5', '6', '7', '8']);
    t.is(s.currentResourceVersion(), '8');
  });

  test(`${impl}: writes issued together are checked in order against each other`, async (t) => {
    const s = await make(t);
    const results = await Promise.allSettled([
      s.create(R.configmaps, configMap('default', 'a', { n: '1' })),
      s.create(R.configmaps, configMap('default', 'a', { n: 'dup' })),
      s.update(R.configmaps, configMap('default', 'a', { n: '2' }), { expectedResourceVersion: '2' }),
      s.update(R.configmaps, configMap('default', 'a', { n: 'stale' }), { expectedResourceVersion: '2' }),
      s.delete(R.configmaps, 'default', 'a'),
      s.create(R.configmaps, configMap('default', 'a', { n: '3' })),
    ]);
    t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    t.is((results[1] as PromiseRejectedResult).reason.reason, 'AlreadyExists');
    t.is((results[3] as PromiseRejectedResult).reason.reason, 'Conflict');
    const rvs = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<KObject>).value.metadata.resourceVersion);
    t.deepEqual(rvs, ['2', '3', '4', '5']);
    t.deepEqual((await s.get(R.configmaps, 'default', 'a'))?.data, { n: '3' });
  });

  test(`${impl}: a batch may write one object twice, in order`, async (t) => {
    const s = await make(t);
    const w = collect(s, {});
    const ok = await s.batch([
      { op: 'create', resource: R.configmaps, object: configMap('default', 'new1') },
      { op: 'update', resource: R.configmaps, object: configMap('default', 'new1', { v: '2' }) },
      { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'new1' },
    ]);
    t.deepEqual(ok.map((o) => o.metadata.resourceVersion), ['2', '3', '4']);
    t.deepEqual(summary(w.events), ['ADDED configmaps default/new1 2', 'MODIFIED configmaps default/new1 3', 'DELETED configmaps default/new1 4']);
  });
}

test('a store must be opened, once', async (t) => {
  const s = new MemoryStore();
  await rejectsWith(t, s.create(R.configmaps, configMap('default', 'a')), 503, 'ServiceUnavailable', 'the in-memory store is not open: call open() first');
  await s.open();
  await t.throwsAsync(s.open(), { message: /already opened/ });
  await s.close();
});

/** A store whose disk fails on demand: the failure must leave memory, the counter and watchers untouched. */
class FailingStore extends CoreStore {
  failNext = false;
  persisted: PersistWrite[][] = [];
  constructor() {
    super({});
  }
  async open(): Promise<void> {
    this.beginOpen();
    this.finishOpen([], 0);
  }
  protected async persist(writes: PersistWrite[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk on fire');
    }
    this.persisted.push(writes);
  }
  protected async closeBackend(): Promise<void> {}
  protected describe(): string {
    return 'the failing store';
  }
}

test('a failed disk write fails the whole group and changes nothing', async (t) => {
  const s = new FailingStore();
  await s.open();
  await s.create(R.configmaps, configMap('default', 'a'));
  const w = collect(s);
  s.failNext = true;
  const results = await Promise.allSettled([
    s.create(R.configmaps, configMap('default', 'b')),
    s.update(R.configmaps, configMap('default', 'a', { v: '2' })),
    s.create(R.configmaps, configMap('default', 'a')),
  ]);
  for (const r of results) {
    t.is(r.status, 'rejected');
    t.is((r as PromiseRejectedResult).reason.code, 500);
    t.is((r as PromiseRejectedResult).reason.message, 'Internal error occurred: storage write failed: disk on fire');
  }
  t.is(s.currentResourceVersion(), '2');
  t.is(await s.get(R.configmaps, 'default', 'b'), undefined);
  t.deepEqual((await s.get(R.configmaps, 'default', 'a'))?.data, {});
  t.deepEqual(w.events, []);
  // The next group goes through with the next rv, as one write per group member.
  const [b, c] = await Promise.all([s.create(R.configmaps, configMap('default', 'b')), s.create(R.configmaps, configMap('default', 'c'))]);
  t.deepEqual([b.metadata.resourceVersion, c.metadata.resourceVersion], ['3', '4']);
  t.deepEqual(s.persisted.map((g) => g.map((x) => x.key)), [['o//configmaps/default/a'], ['o//configmaps/default/b', 'o//configmaps/default/c']]);
  t.deepEqual(summary(w.events), ['ADDED configmaps default/b 3', 'ADDED configmaps default/c 4']);
  await s.close();
});
