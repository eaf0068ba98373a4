// The etcd store against a real etcd (Debian's etcd-server 3.4, started on loopback by the test): the
// same contract the LevelDB store passes, then what only a shared store has to get right — other
// servers' writes, a prefix that is not ours, compaction, etcd going away and coming back.

import test from 'ava';
import { Etcd3 } from 'etcd3';
import { R } from '../../../src/api/resources.js';
import { isStatusError } from '../../../src/api/errors.js';
import { EtcdStore } from '../../../src/store/etcd-store.js';
import { StoreOpenError } from '../../../src/store/data-dir.js';
import type { EtcdWatchFeed } from '../../../src/store/etcd-watch.js';
import type { StoreEvent } from '../../../src/store/types.js';
import { startEtcd, type EtcdCluster } from '../../helpers/etcd.js';
import { collect, rejectsWith, storeContract, summary, type MakeStore } from '../../helpers/store-contract.js';
import { configMap } from '../../helpers/store-fixtures.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let seq = 0;

test.before(async () => {
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: etcd.hosts });
});

test.after.always(async () => {
  raw?.close();
  await etcd?.stop();
});

const prefix = () => `/test-${process.pid}-${++seq}`;

async function open(t: import('ava').ExecutionContext, p: string, extra: Partial<ConstructorParameters<typeof EtcdStore>[0]> = {}): Promise<EtcdStore> {
  const s = new EtcdStore({ hosts: etcd.hosts, prefix: p, compactionIntervalMs: 0, ...extra });
  await s.open();
  t.teardown(() => s.close());
  return s;
}

const make: MakeStore = (t, opts = {}) => open(t, prefix(), { eventLogSize: opts.eventLogSize });

storeContract(test, 'etcd', make, { perOpBatchRv: false });

test('etcd: resourceVersion is the key\'s mod_revision, and the value keeps none of its own', async (t) => {
  const p = prefix();
  const s = await open(t, p);
  const created = await s.create(R.configmaps, configMap('default', 'a', { k: 'v' }));
  const kv = (await raw.kv.range({ key: Buffer.from(`${p}/o//configmaps/default/a`) })).kvs[0]!;
  t.is(kv.mod_revision, created.metadata.resourceVersion!);
  const stored = JSON.parse(kv.value.toString());
  t.is(stored.metadata.resourceVersion, undefined);
  t.deepEqual(stored.data, { k: 'v' });
});

test('etcd: two servers on one prefix see each other\'s writes at once, in order', async (t) => {
  const p = prefix();
  const a = await open(t, p);
  const b = await open(t, p);
  const seenByB = collect(b, { resource: R.configmaps });
  const x = await a.create(R.configmaps, configMap('default', 'x', { n: '1' }));
  // A read on B right after A acknowledged the write sees it: reads wait for B's cache to catch up.
  t.deepEqual((await b.get(R.configmaps, 'default', 'x'))?.metadata.resourceVersion, x.metadata.resourceVersion);
  const y = await b.update(R.configmaps, configMap('default', 'x', { n: '2' }), { expectedResourceVersion: x.metadata.resourceVersion });
  await rejectsWith(t, a.update(R.configmaps, configMap('default', 'x', { n: 'lost' }), { expectedResourceVersion: x.metadata.resourceVersion }), 409, 'Conflict');
  t.deepEqual((await a.get(R.configmaps, 'default', 'x'))?.data, { n: '2' });
  t.deepEqual((await a.list(R.configmaps)).resourceVersion, y.metadata.resourceVersion);
  await a.delete(R.configmaps, 'default', 'x');
  // B's watchers have everything once a read on B has caught up.
  t.is(await b.get(R.configmaps, 'default', 'x'), undefined);
  t.deepEqual(summary(seenByB.events), ['ADDED configmaps default/x', 'MODIFIED configmaps default/x', 'DELETED configmaps default/x']);
  t.is(seenByB.events[1]!.oldObject?.metadata.resourceVersion, x.metadata.resourceVersion);
  // Both create the same name at once: exactly one wins.
  const both = await Promise.allSettled([a.create(R.configmaps, configMap('default', 'race')), b.create(R.configmaps, configMap('default', 'race'))]);
  t.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
});

test('etcd: a reopened store finds every object at its revision and resumes watches from there', async (t) => {
  const p = prefix();
  const first = new EtcdStore({ hosts: etcd.hosts, prefix: p, compactionIntervalMs: 0 });
  await first.open();
  for (let i = 0; i < 5; i++) await first.create(R.configmaps, configMap('default', `c${i}`, { i: String(i) }));
  await first.delete(R.configmaps, 'default', 'c3');
  const before = await first.list(R.configmaps);
  await first.close();
  const again = await open(t, p);
  t.deepEqual((await again.list(R.configmaps)).items, before.items);
  // The cache starts at etcd's revision, which other prefixes' writes also advance.
  t.true(Number(again.currentResourceVersion()) >= Number(before.resourceVersion));
  const w = collect(again, { fromResourceVersion: before.resourceVersion });
  await again.create(R.configmaps, configMap('default', 'after'));
  t.deepEqual(summary(w.events), ['ADDED configmaps default/after']);
});

test('etcd: a prefix holding keys kubelite did not write is refused, and left alone', async (t) => {
  const p = prefix();
  await raw.put(`${p}/someone/else`).value('theirs');
  const s = new EtcdStore({ hosts: etcd.hosts, prefix: p });
  const err = await t.throwsAsync(s.open());
  t.true(err instanceof StoreOpenError);
  t.is((err as StoreOpenError).problem, 'foreign');
  t.regex(err!.message, new RegExp(`prefix ${p}/ holds 1 key\\(s\\) kubelite did not write \\(${p}/someone/else\\)`));
  t.regex(err!.message, /choose another --etcd-prefix/);
  t.deepEqual(await raw.getAll().prefix(`${p}/`).strings(), { [`${p}/someone/else`]: 'theirs' });
  // A sibling prefix that merely starts with the same letters is not ours to judge.
  const sibling = await open(t, `${p}x`);
  t.true(sibling.health().ok);
  // A newer format is refused too.
  const q = prefix();
  await raw.put(`${q}/meta/format`).value('kubelite-etcd/99');
  const newer = await t.throwsAsync(new EtcdStore({ hosts: etcd.hosts, prefix: q }).open());
  t.is((newer as StoreOpenError).problem, 'format');
});

test('etcd: one batch may not write one object twice', async (t) => {
  const s = await make(t);
  await rejectsWith(t, s.batch([
    { op: 'create', resource: R.configmaps, object: configMap('default', 'a') },
    { op: 'update', resource: R.configmaps, object: configMap('default', 'a', { v: '2' }) },
  ]), 400, 'BadRequest');
  t.is(await s.get(R.configmaps, 'default', 'a'), undefined);
});

test('etcd: a compacted watch start makes the cache re-read and its watchers get 410 to re-list', async (t) => {
  // Its own etcd: compaction is global, and the other tests rely on history.
  const own = await startEtcd({ avoidPorts: etcd.members.map((m) => m.clientPort) });
  t.teardown(() => own.stop());
  const ownRaw = new Etcd3({ hosts: own.hosts });
  t.teardown(() => ownRaw.close());
  const p = prefix();
  const s = await open(t, p, { hosts: own.hosts });
  await s.create(R.configmaps, configMap('default', 'a'));
  const closed: (Error | undefined)[] = [];
  s.watch({ resource: R.configmaps }, () => undefined, (err) => closed.push(err));
  // Written behind the cache's back while its watch is down, then compacted: only a re-read finds it.
  const feed = (s as unknown as { feed: EtcdWatchFeed }).feed;
  feed.stop();
  const other = await open(t, p, { hosts: own.hosts });
  const b = await other.create(R.configmaps, configMap('default', 'b'));
  await ownRaw.kv.compact({ revision: b.metadata.resourceVersion! });
  feed.start(2);
  await waitUntil(() => closed.length > 0);
  t.true(isStatusError(closed[0], 'Expired'));
  t.is((closed[0] as { code?: number }).code, 410);
  t.deepEqual((await s.list(R.configmaps)).items.map((o) => o.metadata.name), ['a', 'b']);
  // And it keeps watching.
  const w = collect(s, { resource: R.configmaps });
  await other.create(R.configmaps, configMap('default', 'c'));
  await waitUntil(() => w.events.length > 0);
  t.deepEqual(summary(w.events), ['ADDED configmaps default/c']);
});

test('etcd: an unreachable endpoint fails open with a 503 that names it', async (t) => {
  const s = new EtcdStore({ hosts: ['http://127.0.0.1:1'], requestTimeoutMs: 1000 });
  const err = await t.throwsAsync(s.open());
  t.true(isStatusError(err, 'ServiceUnavailable'), String(err));
  t.regex(err!.message, /http:\/\/127\.0\.0\.1:1/);
  t.false(s.health().ok);
});

test('etcd: losing etcd fails writes and reads with a Status, changes nothing, and everything resumes', async (t) => {
  const own = await startEtcd({ avoidPorts: etcd.members.map((m) => m.clientPort) });
  t.teardown(() => own.stop());
  const s = new EtcdStore({ hosts: own.hosts, compactionIntervalMs: 0, requestTimeoutMs: 1500 });
  await s.open();
  t.teardown(() => s.close());
  const events: StoreEvent[] = [];
  s.watch({ resource: R.configmaps }, (e) => events.push(e));
  await s.create(R.configmaps, configMap('default', 'before'));
  own.kill(0);
  await waitUntil(() => !s.health().ok);
  const write = await t.throwsAsync(s.create(R.configmaps, configMap('default', 'during')));
  t.true(isStatusError(write) && [503, 504].includes(write.code), String(write));
  t.regex(write!.message, new RegExp(own.hosts[0]!.replace(/[/.]/g, '\\$&')));
  const read = await t.throwsAsync(s.get(R.configmaps, 'default', 'before'));
  t.true(isStatusError(read) && [503, 504].includes(read.code), String(read));
  await own.restart(0);
  await waitUntil(() => s.health().ok, 20_000);
  const after = await s.create(R.configmaps, configMap('default', 'after'));
  t.truthy(after.metadata.resourceVersion);
  const names = (await s.list(R.configmaps)).items.map((o) => o.metadata.name);
  // "during" was refused before it reached etcd, or its outcome was reported as unknown: never half there.
  t.true(names.includes('before') && names.includes('after'));
  t.deepEqual(events.map((e) => e.object.metadata.name), names.includes('during') ? ['before', 'during', 'after'] : ['before', 'after']);
});

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
