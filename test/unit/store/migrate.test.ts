// `kubelite store migrate`: a LevelDB store copied into a real etcd, resourceVersions advanced.

import test from 'ava';
import path from 'node:path';
import { R } from '../../../src/api/resources.js';
import { LevelStore } from '../../../src/store/level-store.js';
import { EtcdStore } from '../../../src/store/etcd-store.js';
import { chunkOps, migrateToEtcd } from '../../../src/store/migrate.js';
import { startEtcd } from '../../helpers/etcd.js';
import { configMap, namespaceObj, tempDir } from '../../helpers/store-fixtures.js';

test('chunks stay within etcd\'s transaction limits, in order', (t) => {
  const op = (n: number) => ({ op: { op: 'create' as const, resource: R.configmaps, object: configMap('d', `c${n}`) }, bytes: 400 });
  const chunks = chunkOps(Array.from({ length: 7 }, (_, i) => op(i)), 3, 1000);
  t.deepEqual(chunks.map((c) => c.length), [2, 2, 2, 1]);
  t.deepEqual(chunks.flat().map((o) => (o as { object: { metadata: { name: string } } }).object.metadata.name), ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6']);
  t.deepEqual(chunkOps([]), []);
});

test('every object moves with its content; etcd\'s revisions end up above the old store\'s; a non-empty target is refused', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.stop());
  const dir = path.join(await tempDir(t), 'store');
  const level = new LevelStore({ path: dir });
  await level.open();
  t.teardown(() => level.close());
  await level.create(R.namespaces, namespaceObj('team'));
  for (let i = 0; i < 250; i++) await level.create(R.configmaps, configMap('team', `c${i}`, { i: String(i) }));
  for (let i = 0; i < 250; i += 2) await level.update(R.configmaps, configMap('team', `c${i}`, { i: `${i}-v2` }));
  await level.delete(R.configmaps, 'team', 'c1');
  await level.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'team', name: 'web', uid: 'svc-uid' }, spec: { clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }], type: 'NodePort' } });
  const sourceRv = Number(level.currentResourceVersion());

  const target = new EtcdStore({ hosts: etcd.hosts, compactionIntervalMs: 0 });
  await target.open();
  t.teardown(() => target.close());
  const steps: string[] = [];
  const res = await migrateToEtcd(level, target, (what) => steps.push(what));
  t.is(res.objects, level.count());
  t.is(res.sourceResourceVersion, sourceRv);
  t.true(steps.includes('advance') && steps.includes('copy'));

  const strip = (o: { metadata: { resourceVersion?: string } }) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  for (const res of [R.namespaces, R.configmaps, R.services]) {
    const before = await level.list(res);
    const after = await target.list(res);
    t.deepEqual(after.items.map(strip), before.items.map(strip), res.plural);
    for (const o of after.items) t.true(Number(o.metadata.resourceVersion) > sourceRv, 'every copied object is newer than anything the old store served');
  }
  // The allocation record (the Service's clusterIP and nodePort) came along untouched.
  t.like(await target.get(R.services, 'team', 'web'), { spec: { clusterIP: '10.96.0.20', ports: [{ nodePort: 30080 }] } });
  // A client resuming from an old store's resourceVersion on a new server misses nothing: every copied
  // object is a change after it.
  const fresh = new EtcdStore({ hosts: etcd.hosts, compactionIntervalMs: 0 });
  await fresh.open();
  t.teardown(() => fresh.close());
  let replayed = 0;
  fresh.watch({ fromResourceVersion: String(sourceRv) }, () => replayed++).stop();
  t.is(replayed, res.objects);

  await t.throwsAsync(migrateToEtcd(level, target), { message: /already holds \d+ objects: migrate only into an empty prefix/ });
});
