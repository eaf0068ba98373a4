// The store contract: what every backend (memory, LevelDB, etcd) must do, registered once per backend.
// ResourceVersions are compared, never spelled out: LevelDB counts one per write, etcd's revisions are
// shared with every other key of the cluster and give a whole transaction one revision. The
// LevelDB-specific numbering and group-commit tests live in test/unit/store/core-store.test.ts.

import type { ExecutionContext, TestFn } from 'ava';
import { R } from '../../src/api/resources.js';
import { isStatusError, type StatusError } from '../../src/api/errors.js';
import type { KObject } from '../../src/api/types.js';
import type { Store, StoreEvent } from '../../src/store/types.js';
import { configMap, namespaceObj } from './store-fixtures.js';

export type MakeStore = (t: ExecutionContext, opts?: { eventLogSize?: number }) => Promise<Store>;

export interface ContractOptions {
  /** Each op of a batch gets its own resourceVersion (LevelDB, memory); etcd gives them one. */
  perOpBatchRv: boolean;
}

export async function rejectsWith(t: ExecutionContext, p: Promise<unknown>, code: number, reason: string, message?: string): Promise<StatusError> {
  const err = await t.throwsAsync(p);
  t.true(isStatusError(err), `expected a StatusError, got ${String(err)}`);
  const se = err as StatusError;
  t.is(se.code, code);
  t.is(se.reason, reason);
  if (message !== undefined) t.is(se.message, message);
  return se;
}

export function collect(store: Store, opts: Parameters<Store['watch']>[0] = {}): { events: StoreEvent[]; stop: () => void } {
  const events: StoreEvent[] = [];
  const sub = store.watch(opts, (e) => events.push(e));
  return { events, stop: () => sub.stop() };
}

/** Events without rvs (those are checked on their own: they differ per backend). */
export const summary = (events: StoreEvent[]) => events.map((e) => `${e.type} ${e.resource.plural} ${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}`);
const rvOf = (o: KObject) => Number(o.metadata.resourceVersion);

function increasing(t: ExecutionContext, rvs: number[], strict = true): void {
  for (let i = 1; i < rvs.length; i++) t.true(strict ? rvs[i]! > rvs[i - 1]! : rvs[i]! >= rvs[i - 1]!, `rvs out of order: ${rvs.join(', ')}`);
}

export function storeContract(test: TestFn, impl: string, make: MakeStore, opts: ContractOptions): void {
  test(`${impl}: a write gets a newer resourceVersion, which becomes the store's`, async (t) => {
    const s = await make(t);
    const before = Number(s.currentResourceVersion());
    t.true(before >= 1);
    t.is(s.count(), 0);
    const created = await s.create(R.configmaps, configMap('default', 'a'));
    t.true(rvOf(created) > before);
    t.is(s.currentResourceVersion(), created.metadata.resourceVersion!);
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
    t.is(got?.metadata.resourceVersion, created.metadata.resourceVersion);
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
    const rv = s.currentResourceVersion();
    await rejectsWith(t, s.create(R.configmaps, configMap('default', 'a')), 409, 'AlreadyExists', 'configmaps "a" already exists');
    await rejectsWith(t, s.update(R.configmaps, configMap('default', 'b')), 404, 'NotFound', 'configmaps "b" not found');
    await rejectsWith(t, s.delete(R.configmaps, 'default', 'b'), 404, 'NotFound', 'configmaps "b" not found');
    await rejectsWith(t, s.delete(R.deployments, 'default', 'web'), 404, 'NotFound', 'deployments.apps "web" not found');
    t.is(s.currentResourceVersion(), rv, 'failed writes change nothing');
    // The same name in another namespace or resource is a different object.
    await s.create(R.configmaps, configMap('other', 'a'));
    await s.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'default', name: 'a' } });
    t.is(s.count(), 3);
  });

  test(`${impl}: update replaces, with a resourceVersion precondition`, async (t) => {
    const s = await make(t);
    const v1 = await s.create(R.configmaps, configMap('default', 'a', { n: '1' }));
    const v2 = await s.update(R.configmaps, configMap('default', 'a', { n: '2' }), { expectedResourceVersion: v1.metadata.resourceVersion });
    t.true(rvOf(v2) > rvOf(v1));
    await rejectsWith(
      t,
      s.update(R.configmaps, configMap('default', 'a', { n: '3' }), { expectedResourceVersion: v1.metadata.resourceVersion }),
      409,
      'Conflict',
      'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
    );
    await rejectsWith(t, s.delete(R.configmaps, 'default', 'a', { expectedResourceVersion: '999999999' }), 409, 'Conflict');
    await rejectsWith(t, s.update(R.configmaps, configMap('default', 'a'), { expectedResourceVersion: 'not-a-number' }), 409, 'Conflict');
    await rejectsWith(t, s.update(R.configmaps, configMap('default', 'zz'), { expectedResourceVersion: v2.metadata.resourceVersion }), 404, 'NotFound');
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
    await rejectsWith(t, s.delete(R.configmaps, 'default', 'missing', { expectedUid: 'x' }), 404, 'NotFound');
    const deleted = await s.delete(R.configmaps, 'default', 'a', { expectedUid: 'uid-default-a' });
    t.is(deleted.metadata.uid, 'uid-default-a');
    t.is(deleted.metadata.resourceVersion, s.currentResourceVersion());
    t.is(await s.get(R.configmaps, 'default', 'a'), undefined);
  });

  test(`${impl}: resourceVersions are global across resources and strictly increasing`, async (t) => {
    const s = await make(t);
    const rvs: number[] = [];
    for (let i = 0; i < 5; i++) {
      rvs.push(rvOf(await s.create(R.configmaps, configMap('default', `c${i}`))));
      rvs.push(rvOf(await s.create(R.namespaces, namespaceObj(`ns${i}`))));
      rvs.push(rvOf(await s.update(R.configmaps, configMap('default', `c${i}`, { i: String(i) }))));
    }
    rvs.push(rvOf(await s.delete(R.namespaces, undefined, 'ns0')));
    increasing(t, rvs);
    // Concurrent writers still get distinct rvs, all newer than what came before.
    const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => s.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: `p${i}` }, spec: { containers: [] } })));
    const crvs = concurrent.map(rvOf);
    t.is(new Set(crvs).size, 20);
    t.true(Math.min(...crvs) > rvs.at(-1)!);
    t.is(s.currentResourceVersion(), String(Math.max(...crvs)));
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
        { op: 'create', resource: R.configmaps, object: configMap('default', 'other') },
        { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'missing' },
      ]),
      404,
      'NotFound',
    );
    t.is(s.currentResourceVersion(), before);
    t.is(await s.get(R.configmaps, 'default', 'new1'), undefined);
    t.deepEqual((await s.get(R.configmaps, 'default', 'exists'))?.data, {});
    t.deepEqual(w.events, []);

    const ok = await s.batch([
      { op: 'create', resource: R.configmaps, object: configMap('default', 'new1', { v: '1' }) },
      { op: 'update', resource: R.configmaps, object: configMap('default', 'exists', { v: '2' }) },
      { op: 'create', resource: R.namespaces, object: namespaceObj('ns') },
      { op: 'delete', resource: R.configmaps, namespace: 'default', name: 'exists' },
    ].filter((_, i) => i !== 1 || opts.perOpBatchRv) as Parameters<Store['batch']>[0]);
    const rvs = ok.map(rvOf);
    t.true(rvs[0]! > Number(before));
    increasing(t, rvs, opts.perOpBatchRv);
    if (!opts.perOpBatchRv) t.is(new Set(rvs).size, 1, 'one transaction, one revision');
    t.is(ok.at(-1)!.metadata.name, 'exists');
    t.deepEqual(summary(w.events), [
      'ADDED configmaps default/new1',
      ...(opts.perOpBatchRv ? ['MODIFIED configmaps default/exists'] : []),
      'ADDED namespaces /ns',
      'DELETED configmaps default/exists',
    ]);
    t.deepEqual(w.events.map((e) => e.rv), rvs);
    t.deepEqual(await s.batch([]), []);
    t.is(s.currentResourceVersion(), String(rvs.at(-1)));
  });

  test(`${impl}: a failing batch does not hold back the writes issued with it`, async (t) => {
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
    t.is((good as PromiseFulfilledResult<KObject>).value.metadata.resourceVersion, s.currentResourceVersion());
  });

  test(`${impl}: watch delivers live events in order, with oldObject and the deletion's rv`, async (t) => {
    const s = await make(t);
    const w = collect(s);
    const created = await s.create(R.configmaps, configMap('default', 'a', { n: '1' }));
    const updated = await s.update(R.configmaps, configMap('default', 'a', { n: '2' }));
    const deleted = await s.delete(R.configmaps, 'default', 'a');
    t.deepEqual(summary(w.events), ['ADDED configmaps default/a', 'MODIFIED configmaps default/a', 'DELETED configmaps default/a']);
    t.deepEqual(w.events.map((e) => e.rv), [created, updated, deleted].map(rvOf));
    const [added, modified, del] = w.events as [StoreEvent, StoreEvent, StoreEvent];
    t.deepEqual(added.object, created);
    t.is(added.oldObject, undefined);
    t.deepEqual(modified.oldObject?.data, { n: '1' });
    t.is(modified.oldObject?.metadata.resourceVersion, created.metadata.resourceVersion);
    t.deepEqual(modified.object, updated);
    t.deepEqual(del.object, deleted);
    t.is(del.object.metadata.resourceVersion, deleted.metadata.resourceVersion);
    t.deepEqual(del.object.data, { n: '2' });
    t.is(del.oldObject?.metadata.resourceVersion, updated.metadata.resourceVersion);
    t.is(added.resource, R.configmaps);
    // Spreading or serializing an event keeps its objects.
    t.deepEqual({ ...modified }.object, modified.object);
    t.deepEqual(JSON.parse(JSON.stringify(del)).object.metadata.resourceVersion, deleted.metadata.resourceVersion);
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
    const one = await s.update(R.configmaps, configMap('b', 'one', { v: '2' }));
    const w = collect(s, { resource: R.configmaps, initial: true });
    t.deepEqual(summary(w.events), ['ADDED configmaps a/two', 'ADDED configmaps b/one']);
    t.is(w.events[1]!.object.metadata.resourceVersion, one.metadata.resourceVersion);
    t.is(w.events[1]!.rv, rvOf(one));
    t.deepEqual(w.events[1]!.object.data, { v: '2' });
    await s.create(R.configmaps, configMap('c', 'three'));
    t.deepEqual(summary(w.events).at(-1), 'ADDED configmaps c/three');
    const everything = collect(s, { initial: true });
    t.deepEqual(summary(everything.events), ['ADDED configmaps a/two', 'ADDED namespaces /x', 'ADDED configmaps b/one', 'ADDED configmaps c/three']);
    increasing(t, everything.events.map((e) => e.rv));
    const inB = collect(s, { resource: R.configmaps, namespace: 'b', initial: true });
    t.deepEqual(summary(inB.events), ['ADDED configmaps b/one']);
  });

  test(`${impl}: watch from a resourceVersion replays what came after it, then continues live`, async (t) => {
    const s = await make(t);
    const start = s.currentResourceVersion();
    await s.create(R.configmaps, configMap('default', 'a'));
    const mark = s.currentResourceVersion();
    await s.create(R.configmaps, configMap('default', 'b'));
    await s.delete(R.configmaps, 'default', 'a');
    const w = collect(s, { fromResourceVersion: mark });
    t.deepEqual(summary(w.events), ['ADDED configmaps default/b', 'DELETED configmaps default/a']);
    await s.create(R.configmaps, configMap('default', 'c'));
    t.deepEqual(summary(w.events).at(-1), 'ADDED configmaps default/c');
    const fromNow = collect(s, { fromResourceVersion: s.currentResourceVersion() });
    t.deepEqual(fromNow.events, []);
    const fromStart = collect(s, { fromResourceVersion: start });
    t.is(fromStart.events.length, 4);
  });

  test(`${impl}: watch filters by resource and namespace`, async (t) => {
    const s = await make(t);
    const start = s.currentResourceVersion();
    const cms = collect(s, { resource: R.configmaps });
    const inA = collect(s, { resource: R.configmaps, namespace: 'a' });
    const anyInA = collect(s, { namespace: 'a' });
    await s.create(R.configmaps, configMap('a', 'x'));
    await s.create(R.configmaps, configMap('b', 'y'));
    await s.create(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'a', name: 's' } });
    await s.create(R.namespaces, namespaceObj('a'));
    t.deepEqual(summary(cms.events), ['ADDED configmaps a/x', 'ADDED configmaps b/y']);
    t.deepEqual(summary(inA.events), ['ADDED configmaps a/x']);
    t.deepEqual(summary(anyInA.events), ['ADDED configmaps a/x', 'ADDED secrets a/s']);
    const replay = collect(s, { resource: R.secrets, fromResourceVersion: start });
    t.deepEqual(summary(replay.events), ['ADDED secrets a/s']);
  });

  test(`${impl}: a watch from before the kept history gets 410`, async (t) => {
    const s = await make(t, { eventLogSize: 3 });
    const rvs: number[] = [];
    for (let i = 0; i < 6; i++) rvs.push(rvOf(await s.create(R.configmaps, configMap('default', `c${i}`))));
    // The last 3 changes are kept, so a watch can resume from the 3rd write onwards, not from the 2nd.
    const err = t.throws(() => s.watch({ fromResourceVersion: String(rvs[1]) }, () => undefined));
    t.true(isStatusError(err, 'Expired'));
    t.is((err as StatusError).code, 410);
    t.is(err?.message, `too old resource version: ${rvs[1]} (${rvs[2]})`);
    const w = collect(s, { fromResourceVersion: String(rvs[2]) });
    t.deepEqual(w.events.map((e) => e.rv), rvs.slice(3));
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
    for (const n of ['a', 'b', 'c', 'd']) await s.create(R.configmaps, configMap('default', n));
    t.deepEqual(late.map((e) => e.object.metadata.name), ['b', 'c', 'd']);
  });

  test(`${impl}: bad keys are refused before they reach storage`, async (t) => {
    const s = await make(t);
    const rv = s.currentResourceVersion();
    await rejectsWith(t, s.create(R.configmaps, configMap('a/b', 'c')), 400, 'BadRequest');
    await rejectsWith(t, s.create(R.configmaps, configMap('a', 'b/c')), 400, 'BadRequest');
    await rejectsWith(t, s.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), 400, 'BadRequest', 'a namespace is required for configmaps');
    await rejectsWith(t, s.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'x' } }), 400, 'BadRequest');
    await rejectsWith(t, s.get(R.configmaps, undefined, 'x'), 400, 'BadRequest');
    t.is(s.currentResourceVersion(), rv);
  });

  test(`${impl}: close finishes pending writes, then everything rejects clearly`, async (t) => {
    const s = await make(t);
    const pending = s.create(R.configmaps, configMap('default', 'a'));
    await s.close();
    t.truthy((await pending).metadata.resourceVersion);
    const err = await rejectsWith(t, s.create(R.configmaps, configMap('default', 'b')), 503, 'ServiceUnavailable');
    t.regex(err.message, /is closed/);
    await rejectsWith(t, s.get(R.configmaps, 'default', 'a'), 503, 'ServiceUnavailable');
    await rejectsWith(t, s.list(R.configmaps), 503, 'ServiceUnavailable');
    t.throws(() => s.watch({}, () => undefined), { message: /is closed/ });
    t.throws(() => s.count(), { message: /is closed/ });
    await t.notThrowsAsync(s.close());
  });
}
