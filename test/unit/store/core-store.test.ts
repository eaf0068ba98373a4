// Store semantics, run against both backends: they share CoreStore, and these tests keep it that way.

import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { R } from '../../../src/api/resources.js';
import { isStatusError, type StatusError } from '../../../src/api/errors.js';
import type { KObject } from '../../../src/api/types.js';
import type { Store, StoreEvent } from '../../../src/store/types.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { LevelStore } from '../../../src/store/level-store.js';
import { CoreStore, type PersistWrite } from '../../../src/store/core-store.js';
import { configMap, namespaceObj, tempDir } from '../../helpers/store-fixtures.js';

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

async function rejectsWith(t: ExecutionContext, p: Promise<unknown>, code: number, reason: string, message?: string): Promise<StatusError> {
  const err = await t.throwsAsync(p);
  t.true(isStatusError(err), `expected a StatusError, got ${String(err)}`);
  const se = err as StatusError;
  t.is(se.code, code);
  t.is(se.reason, reason);
  if (message !== undefined) t.is(se.message, message);
  return se;
}

function collect(store: Store, opts: Parameters<Store['watch']>[0] = {}): { events: StoreEvent[]; stop: () => void } {
  const events: StoreEvent[] = [];
  const sub = store.watch(opts, (e) => events.push(e));
  return { events, stop: () => sub.stop() };
}

const summary = (events: StoreEvent[]) => events.map((e) => `${e.type} ${e.resource.plural} ${e.object.metadata.namespace ?? ''}/${e.object.metadata.name} ${e.rv}`);

for (const { name: impl, make } of impls) {
  test(`${impl}: an empty store is at rv 1 and the first write gets 2`, async (t) => {
    const s = await make(t);
    t.is(s.currentResourceVersion(), '1');
    t.is(s.count(), 0);
    const created = await s.create(R.configmaps, configMap('default', 'a'));
    t.is(created.metadata.resourceVersion, '2');
    t.is(s.currentResourceVersion(), '2');
  });

  test(`${impl}: create/get hand out copies and never touch the caller's object`, async (t) => {
    const s = await make(t);
    const input = configMap('default', 'a', { k: 'v' });
    const created = await s.create(R.configmaps, input);
    t.is(input.metadata.resourceVersion, undefined);
    t.deepEqual(created, { ...input, metadata: { ...input.metadata, resourceVersion: created.metadata.resourceVersion } });
    (created.data as Record<string, string>).k = 'mutated';
    input.metadata.name = 'renamed';
    const got = await s.get(R.configmaps, 'default', 'a');
    t.deepEqual(got?.data, { k: 'v' });
    (got!.data as Record<string, string>).k = 'mutated again';
    t.deepEqual((await s.get(R.configmaps, 'default', 'a'))?.data, { k: 'v' });
    t.is(await s.get(R.configmaps, 'default', 'missing'), undefined);
    t.is(await s.get(R.configmaps, 'other', 'a'), undefined);
  });

  test(`${impl}: list is sorted by namespace then name, filters by namespace, and is a copy`, async (t) => {
    const s = await make(t);
    for (const [ns, n] of [['b', 'z'], ['a', 'y'], ['b', 'a'], ['a', 'b'], ['c', 'm']] as const) await s.create(R.configmaps, configMap(ns, n));
    await s.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'a', name: 'not-a-configmap' } });
    const all = await s.list(R.configmaps);
    t.deepEqual(all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['a/b', 'a/y', 'b/a', 'b/z', 'c/m']);
    t.is(all.resourceVersion, s.currentResourceVersion());
    const inB = await s.list(R.configmaps, 'b');
    t.deepEqual(inB.items.map((o) => o.metadata.name), ['a', 'z']);
    t.deepEqual((await s.list(R.configmaps, 'nope')).items, []);
    t.deepEqual((await s.list(R.pods)).items, []);
    inB.items[0]!.metadata.name = 'changed';
    t.is((await s.list(R.configmaps, 'b')).items[0]!.metadata.name, 'a');
    t.is(s.count(R.configmaps), 5);
    t.is(s.count(R.secrets), 1);
    t.is(s.count(), 6);
    // A deletion keeps the order right for what remains.
    await s.delete(R.configmaps, 'a', 'b');
    await s.create(R.configmaps, configMap('a', 'c'));
    t.deepEqual((await s.list(R.configmaps)).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`), ['a/c', 'a/y', 'b/a', 'b/z', 'c/m']);
  });

  test(`${impl}: cluster-scoped objects are keyed without a namespace`, async (t) => {
    const s = await make(t);
    await s.create(R.namespaces, namespaceObj('kube-system'));
    await s.create(R.namespaces, namespaceObj('default'));
    t.is((await s.get(R.namespaces, undefined, 'default'))?.metadata.name, 'default');
    t.is((await s.get(R.namespaces, 'ignored', 'default'))?.metadata.name, 'default');
    t.deepEqual((await s.list(R.namespaces, 'ignored')).items.map((o) => o.metadata.name), ['default', 'kube-system']);
    await s.delete(R.namespaces, undefined, 'default');
    t.is(s.count(R.namespaces), 1);
  });

  test(`${impl}: AlreadyExists and NotFound`, async (t) => {
    const s = await make(t);
    await s.create(R.configmaps, configMap('default', 'a'));
    await rejectsWith(t, s.create(R.configmaps, configMap('default', 'a')), 409, 'AlreadyExists', 'configmaps "a" already exists');
    await rejectsWith(t, s.update(R.configmaps, configMap('default', 'b')), 404, 'NotFound', 'configmaps "b" not found');
    await rejectsWith(t, s.delete(R.configmaps, 'default', 'b'), 404, 'NotFound', 'configmaps "b" not found');
    await rejectsWith(t, s.delete(R.deployments, 'default', 'web'), 404, 'NotFound', 'deployments.apps "web" not found');
    // The same name in another namespace or resource is a different object.
    await s.create(R.configmaps, configMap('other', 'a'));
    await s.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'default', name: 'a' } });
    t.is(s.currentResourceVersion(), '4');
  });

  test(`${impl}: update replaces, with a resourceVersion precondition`, async (t) => {
    const s = await make(t);
    const v1 = await s.create(R.configmaps, configMap('default', 'a', { n: '1' }));
    const v2 = await s.update(R.configmaps, configMap('default', 'a', { n: '2' }), { expectedResourceVersion: v1.metadata.resourceVersion });
    t.is(Number(v2.metadata.resourceVersion), Number(v1.metadata.resourceVersion) + 1);
    await rejectsWith(
      t,
      s.update(R.configmaps, configMap('default', 'a', { n: '3' }), { expectedResourceVersion: v1.metadata.resourceVersion }),
      409,
      'Conflict',
      'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    );
    await rejectsWith(t, s.delete(R.configmaps, 'default', 'a', { expectedResourceVersion: '999' }), 409, 'Conflict');
    t.deepEqual((await s.get(R.configmaps, 'default', 'a'))?.data, { n: '2' });
    // Unconditional update ignores whatever rv the object carries.
    const stale = { ...configMap('default', 'a', { n: '4' }) };
    stale.metadata.resourceVersion = '1';
    const v3 = await s.update(R.configmaps, stale);
    t.is(v3.metadata.resourceVersion, s.currentResourceVersion());
    t.deepEqual((await s.get(R.configmaps, 'default', 'a'))?.data, { n: '4' });
  });

  test(`${impl}: uid precondition`, async (t) => {
    const s = await make(t);
    await s.create(R.configmaps, configMap('default', 'a'));
    await rejectsWith(
      t,
      s.delete(R.configmaps, 'default', 'a', { expectedUid: 'someone-else' }),
      409,
      'Conflict',
      'Operation cannot be fulfilled on configmaps "a": Precondition failed: UID in precondition: someone-else, UID in object meta: uid-default-a',
    );
    t.truthy(await s.get(R.configmaps, 'default', 'a'));
    const deleted = await s.delete(R.configmaps, 'default', 'a', { expectedUid: 'uid-default-a' });
    t.is(deleted.metadata.uid, 'uid-default-a');
    t.is(deleted.metadata.resourceVersion, s.currentResourceVersion());
    t.is(await s.get(R.configmaps, 'default', 'a'), undefined);
  });

  test(`${impl}: resourceVersions are global across resources and strictly increasing`, async (t) => {
    const s = await make(t);
    const rvs: number[] = [];
    for (let i = 0; i < 5; i++) {
      rvs.push(Number((await s.create(R.configmaps, configMap('default', `c${i}`))).metadata.resourceVersion));
      rvs.push(Number((await s.create(R.namespaces, namespaceObj(`ns${i}`))).metadata.resourceVersion));
      rvs.push(Number((await s.update(R.configmaps, configMap('default', `c${i}`, { i: String(i) }))).metadata.resourceVersion));
    }
    rvs.push(Number((await s.delete(R.namespaces, undefined, 'ns0')).metadata.resourceVersion));
    // Concurrent writers still get distinct, consecutive rvs.
    const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => s.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: `p${i}` }, spec: { containers: [] } })));
    rvs.push(...concurrent.map((o) => Number(o.metadata.resourceVersion)));
    t.deepEqual(rvs, Array.from({ length: rvs.length }, (_, i) => i + 2));
    t.is(s.currentResourceVersion(), String(rvs.at(-1)));
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

  test(`${impl}: a batch applies all ops or none`, async (t) => {
    const s = await make(t);
    await s.create(R.configmaps, configMap('default', 'exists'));
    const w = collect(s, {});
    const before = s.currentResourceVersion();
    await rejectsWith(
      t,
      s.batch([
        { op: 'create', resource: R.configmaps, object: configMap('default', 'new1') },
        { op: 'update', resource: R.configmaps, object: configMap('default', 'exists', { changed: 'yes' }) },
        { op: 'create', resource: R.configmaps, object: configMap('default', 'exists') },
      ]),
      409,
      'AlreadyExists',
    );
    t.is(s.currentResourceVersion(), before);
    t.is(await s.get(R.configmaps, 'default', 'new1'), undefined);
    t.deepEqual((await s.get(R.configmaps, 'default', 'exists'))?.data, {});
    t.deepEqual(w.events, []);

    const ok = await s.batch([
      { op: 'create', resource: R.configmaps, object: configMap('default', 'new1') },
      { op: 'update', resource: R.configmaps, object: configMap('default', 'new1', { v: '2' }) },
      { op: 'create', resource: R.namespaces, object: namespaceObj('ns') },
      { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'exists' },
    ]);
    const b = Number(before);
    t.deepEqual(ok.map((o) => o.metadata.resourceVersion), [b + 1, b + 2, b + 3, b + 4].map(String));
    t.deepEqual(ok[3]!.metadata.name, 'exists');
    t.deepEqual(summary(w.events), [
      `ADDED configmaps default/new1 ${b + 1}`,
      `MODIFIED configmaps default/new1 ${b + 2}`,
      `ADDED namespaces /ns ${b + 3}`,
      `DELETED configmaps default/exists ${b + 4}`,
    ]);
    t.deepEqual(await s.batch([]), []);
    t.is(s.currentResourceVersion(), String(b + 4));
  });

  test(`${impl}: a failing batch does not hold back the writes grouped with it`, async (t) => {
    const s = await make(t);
    const [bad, good] = await Promise.allSettled([
      s.batch([
        { op: 'create', resource: R.configmaps, object: configMap('default', 'x') },
        { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'missing' },
      ]),
      s.create(R.configmaps, configMap('default', 'x')),
    ]);
    t.is(bad.status, 'rejected');
    t.is(good.status, 'fulfilled');
    t.is((good as PromiseFulfilledResult<KObject>).value.metadata.resourceVersion, '2');
  });

  test(`${impl}: watch delivers live events in order, with oldObject and the deletion's rv`, async (t) => {
    const s = await make(t);
    const w = collect(s);
    const created = await s.create(R.configmaps, configMap('default', 'a', { n: '1' }));
    await s.update(R.configmaps, configMap('default', 'a', { n: '2' }));
    const deleted = await s.delete(R.configmaps, 'default', 'a');
    t.deepEqual(summary(w.events), ['ADDED configmaps default/a 2', 'MODIFIED configmaps default/a 3', 'DELETED configmaps default/a 4']);
    const [added, modified, del] = w.events as [StoreEvent, StoreEvent, StoreEvent];
    t.deepEqual(added.object, created);
    t.is(added.oldObject, undefined);
    t.deepEqual(modified.oldObject?.data, { n: '1' });
    t.is(modified.oldObject?.metadata.resourceVersion, '2');
    t.deepEqual(modified.object.data, { n: '2' });
    t.deepEqual(del.object, deleted);
    t.is(del.object.metadata.resourceVersion, '4');
    t.deepEqual(del.object.data, { n: '2' });
    t.is(del.oldObject?.metadata.resourceVersion, '3');
    t.is(added.resource, R.configmaps);
    // Spreading or serializing an event keeps its objects.
    t.deepEqual({ ...modified }.object, modified.object);
    t.deepEqual(JSON.parse(JSON.stringify(del)).object.metadata.resourceVersion, '4');
    w.stop();
    await s.create(R.configmaps, configMap('default', 'b'));
    t.is(w.events.length, 3);
  });

  test(`${impl}: each subscriber gets its own copy of event objects`, async (t) => {
    const s = await make(t);
    const a = collect(s);
    const b = collect(s);
    await s.create(R.configmaps, configMap('default', 'a', { k: 'v' }));
    (a.events[0]!.object.data as Record<string, string>).k = 'mutated';
    t.deepEqual(b.events[0]!.object.data, { k: 'v' });
    t.deepEqual((await s.get(R.configmaps, 'default', 'a'))?.data, { k: 'v' });
  });

  test(`${impl}: watch with initial sends current objects in rv order, then live`, async (t) => {
    const s = await make(t);
    await s.create(R.configmaps, configMap('b', 'one'));
    await s.create(R.configmaps, configMap('a', 'two'));
    await s.create(R.namespaces, namespaceObj('x'));
    await s.update(R.configmaps, configMap('b', 'one', { v: '2' }));
    const w = collect(s, { resource: R.configmaps, initial: true });
    t.deepEqual(summary(w.events), ['ADDED configmaps a/two 3', 'ADDED configmaps b/one 5']);
    t.is(w.events[1]!.object.metadata.resourceVersion, '5');
    t.deepEqual(w.events[1]!.object.data, { v: '2' });
    await s.create(R.configmaps, configMap('c', 'three'));
    t.deepEqual(summary(w.events).at(-1), 'ADDED configmaps c/three 6');
    const everything = collect(s, { initial: true });
    t.deepEqual(summary(everything.events), ['ADDED configmaps a/two 3', 'ADDED namespaces /x 4', 'ADDED configmaps b/one 5', 'ADDED configmaps c/three 6']);
    const inB = collect(s, { resource: R.configmaps, namespace: 'b', initial: true });
    t.deepEqual(summary(inB.events), ['ADDED configmaps b/one 5']);
  });

  test(`${impl}: watch from a resourceVersion replays what came after it, then continues live`, async (t) => {
    const s = await make(t);
    await s.create(R.configmaps, configMap('default', 'a'));
    const mark = s.currentResourceVersion();
    await s.create(R.configmaps, configMap('default', 'b'));
    await s.delete(R.configmaps, 'default', 'a');
    const w = collect(s, { fromResourceVersion: mark });
    t.deepEqual(summary(w.events), ['ADDED configmaps default/b 3', 'DELETED configmaps default/a 4']);
    await s.create(R.configmaps, configMap('default', 'c'));
    t.deepEqual(summary(w.events).at(-1), 'ADDED configmaps default/c 5');
    const fromNow = collect(s, { fromResourceVersion: s.currentResourceVersion() });
    t.deepEqual(fromNow.events, []);
    const fromStart = collect(s, { fromResourceVersion: '1' });
    t.is(fromStart.events.length, 4);
  });

  test(`${impl}: watch filters by resource and namespace`, async (t) => {
    const s = await make(t);
    const cms = collect(s, { resource: R.configmaps });
    const inA = collect(s, { resource: R.configmaps, namespace: 'a' });
    const anyInA = collect(s, { namespace: 'a' });
    await s.create(R.configmaps, configMap('a', 'x'));
    await s.create(R.configmaps, configMap('b', 'y'));
    await s.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'a', name: 's' } });
    await s.create(R.namespaces, namespaceObj('a'));
    t.deepEqual(summary(cms.events), ['ADDED configmaps a/x 2', 'ADDED configmaps b/y 3']);
    t.deepEqual(summary(inA.events), ['ADDED configmaps a/x 2']);
    t.deepEqual(summary(anyInA.events), ['ADDED configmaps a/x 2', 'ADDED secrets a/s 4']);
    const replay = collect(s, { resource: R.secrets, fromResourceVersion: '1' });
    t.deepEqual(summary(replay.events), ['ADDED secrets a/s 4']);
  });

  test(`${impl}: a watch from before the kept history gets 410`, async (t) => {
    const s = await make(t, { eventLogSize: 3 });
    for (let i = 0; i < 6; i++) await s.create(R.configmaps, configMap('default', `c${i}`));
    // rvs 2..7 were written; the last 3 (5, 6, 7) are kept, so a watch can resume from 4 onwards.
    const err = t.throws(() => s.watch({ fromResourceVersion: '3' }, () => undefined));
    t.true(isStatusError(err, 'Expired'));
    t.is((err as StatusError).code, 410);
    t.is(err?.message, 'too old resource version: 3 (4)');
    const w = collect(s, { fromResourceVersion: '4' });
    t.deepEqual(w.events.map((e) => e.rv), [5, 6, 7]);
    // `initial` never needs history.
    t.is(collect(s, { initial: true }).events.length, 6);
    t.throws(() => s.watch({ fromResourceVersion: 'abc' }, () => undefined), { message: 'invalid resource version: "abc"' });
  });

  test(`${impl}: a subscriber that throws is dropped without disturbing the others`, async (t) => {
    const s = await make(t);
    let calls = 0;
    s.watch({}, () => {
      calls++;
      throw new Error('client went away');
    });
    const other = collect(s);
    await s.create(R.configmaps, configMap('default', 'a'));
    await s.create(R.configmaps, configMap('default', 'b'));
    t.is(calls, 1);
    t.is(other.events.length, 2);
    // One that throws during its initial replay stops there too, and writes carry on.
    await s.create(R.configmaps, configMap('default', 'c'));
    let initialCalls = 0;
    s.watch({ initial: true }, () => {
      initialCalls++;
      throw new Error('boom');
    });
    t.is(initialCalls, 1);
    await s.create(R.configmaps, configMap('default', 'd'));
    t.is(initialCalls, 1);
    t.is(other.events.length, 4);
  });

  test(`${impl}: a watch started from inside a callback neither misses nor repeats events`, async (t) => {
    const s = await make(t);
    const late: StoreEvent[] = [];
    let started = false;
    s.watch({}, (e) => {
      if (!started && e.object.metadata.name === 'b') {
        started = true;
        s.watch({ fromResourceVersion: String(e.rv - 1) }, (x) => late.push(x));
      }
    });
    await s.batch(['a', 'b', 'c', 'd'].map((n) => ({ op: 'create' as const, resource: R.configmaps, object: configMap('default', n) })));
    t.deepEqual(late.map((e) => e.object.metadata.name), ['b', 'c', 'd']);
  });

  test(`${impl}: bad keys are refused before they reach storage`, async (t) => {
    const s = await make(t);
    await rejectsWith(t, s.create(R.configmaps, configMap('a/b', 'c')), 400, 'BadRequest');
    await rejectsWith(t, s.create(R.configmaps, configMap('a', 'b/c')), 400, 'BadRequest');
    await rejectsWith(t, s.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), 400, 'BadRequest', 'a namespace is required for configmaps');
    await rejectsWith(t, s.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'x' } }), 400, 'BadRequest');
    await rejectsWith(t, s.get(R.configmaps, undefined, 'x'), 400, 'BadRequest');
    t.is(s.currentResourceVersion(), '1');
  });

  test(`${impl}: close flushes pending writes, then everything rejects clearly`, async (t) => {
    const s = await make(t);
    const pending = s.create(R.configmaps, configMap('default', 'a'));
    await s.close();
    t.is((await pending).metadata.resourceVersion, '2');
    const err = await rejectsWith(t, s.create(R.configmaps, configMap('default', 'b')), 503, 'ServiceUnavailable');
    t.regex(err.message, /is closed/);
    await rejectsWith(t, s.get(R.configmaps, 'default', 'a'), 503, 'ServiceUnavailable');
    await rejectsWith(t, s.list(R.configmaps), 503, 'ServiceUnavailable');
    t.throws(() => s.watch({}, () => undefined), { message: /is closed/ });
    t.throws(() => s.count(), { message: /is closed/ });
    await t.notThrowsAsync(s.close());
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
