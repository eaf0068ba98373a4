// LevelStore on disk: persistence across reopen, and refusing directories that are not ours.

import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { R } from '../../../src/api/resources.js';
import { isStatusError } from '../../../src/api/errors.js';
import { LevelStore } from '../../../src/store/level-store.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { StoreOpenError, type StoreOpenProblem } from '../../../src/store/data-dir.js';
import { openStore, storePath } from '../../../src/store/index.js';
import { configMap, namespaceObj, snapshotFiles, tempDir } from '../../helpers/store-fixtures.js';

async function openAt(dir: string, eventLogSize?: number): Promise<LevelStore> {
  const s = new LevelStore({ path: dir, eventLogSize });
  await s.open();
  return s;
}

async function expectOpenError(t: import('ava').ExecutionContext, dir: string, problem: StoreOpenProblem, message: RegExp): Promise<void> {
  const s = new LevelStore({ path: dir });
  const err = await t.throwsAsync(s.open());
  t.true(err instanceof StoreOpenError, String(err));
  t.is((err as StoreOpenError).problem, problem);
  t.regex(err!.message, message);
  t.true(err!.message.includes(path.resolve(dir)), 'the message names the path');
}

test('reopening finds every object with the same rvs, and the counter continues', async (t) => {
  const dir = path.join(await tempDir(t), 'store');
  const s1 = await openAt(dir);
  await s1.create(R.namespaces, namespaceObj('default'));
  for (let i = 0; i < 50; i++) await s1.create(R.configmaps, configMap('default', `c${i}`, { i: String(i) }));
  await s1.update(R.configmaps, configMap('default', 'c7', { i: 'seven' }));
  await s1.delete(R.configmaps, 'default', 'c8');
  const before = await s1.list(R.configmaps);
  const rvBefore = s1.currentResourceVersion();
  await s1.close();

  const s2 = await openAt(dir);
  t.teardown(() => s2.close());
  t.is(s2.currentResourceVersion(), rvBefore);
  t.deepEqual(await s2.list(R.configmaps), before);
  t.is(s2.count(), 50);
  t.deepEqual((await s2.get(R.configmaps, 'default', 'c7'))?.data, { i: 'seven' });
  t.is(await s2.get(R.configmaps, 'default', 'c8'), undefined);
  t.is((await s2.get(R.namespaces, undefined, 'default'))?.metadata.resourceVersion, '2');
  const next = await s2.create(R.configmaps, configMap('default', 'after'));
  t.is(next.metadata.resourceVersion, String(Number(rvBefore) + 1));
});

test('after a restart the watch history is empty: older rvs get 410, the current rv is fine', async (t) => {
  const dir = path.join(await tempDir(t), 'store');
  const s1 = await openAt(dir);
  for (let i = 0; i < 3; i++) await s1.create(R.configmaps, configMap('default', `c${i}`));
  const rv = s1.currentResourceVersion();
  await s1.close();
  const s2 = await openAt(dir);
  t.teardown(() => s2.close());
  const err = t.throws(() => s2.watch({ fromResourceVersion: String(Number(rv) - 1) }, () => undefined));
  t.true(isStatusError(err, 'Expired'));
  t.is(err?.message, `too old resource version: ${Number(rv) - 1} (${rv})`);
  const events: number[] = [];
  s2.watch({ fromResourceVersion: rv }, (e) => events.push(e.rv));
  await s2.create(R.configmaps, configMap('default', 'new'));
  t.deepEqual(events, [Number(rv) + 1]);
  const initial: string[] = [];
  s2.watch({ resource: R.configmaps, initial: true }, (e) => initial.push(`${e.object.metadata.name}@${e.rv}`));
  t.deepEqual(initial, ['c0@2', 'c1@3', 'c2@4', 'new@5']);
});

test('openStore: LevelDB under <dataDir>/store, memory without a data dir', async (t) => {
  const dataDir = path.join(await tempDir(t), 'data');
  const s = await openStore(dataDir);
  t.true(s instanceof LevelStore);
  t.is((s as LevelStore).path, storePath(dataDir));
  await s.create(R.configmaps, configMap('default', 'a'));
  await s.close();
  const again = await openStore(dataDir);
  t.is((await again.get(R.configmaps, 'default', 'a'))?.metadata.resourceVersion, '2');
  await again.close();
  const mem = await openStore(undefined);
  t.true(mem instanceof MemoryStore);
  t.is(mem.currentResourceVersion(), '1');
  await mem.create(R.configmaps, configMap('default', 'a'));
  await mem.close();
});

test('an existing empty directory becomes a store', async (t) => {
  const dir = await tempDir(t);
  const s = await openAt(dir);
  await s.create(R.configmaps, configMap('default', 'a'));
  await s.close();
  t.true((await fs.readdir(dir)).includes('CURRENT'));
});

test('a directory with foreign files is refused and left untouched', async (t) => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, 'notes.txt'), 'my precious data\n');
  await fs.mkdir(path.join(dir, 'photos'));
  await fs.writeFile(path.join(dir, 'photos', 'cat.jpg'), Buffer.from([0xff, 0xd8, 0xff]));
  const before = await snapshotFiles(dir);
  await expectOpenError(t, dir, 'foreign', /is not a kubelite store: it is not empty and holds no LevelDB \(found: notes\.txt, photos\).*never deletes/);
  t.deepEqual(await snapshotFiles(dir), before);
  t.deepEqual((await fs.readdir(dir)).sort(), ['notes.txt', 'photos']);
});

test('a path that is a file is refused', async (t) => {
  const file = path.join(await tempDir(t), 'store');
  await fs.writeFile(file, 'not a dir');
  await expectOpenError(t, file, 'not-a-directory', /exists but is not a directory/);
  t.is(await fs.readFile(file, 'utf8'), 'not a dir');
});

test("someone else's LevelDB is refused and its data kept", async (t) => {
  const dir = path.join(await tempDir(t), 'db');
  const foreign = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await foreign.open();
  await foreign.put('users/1', 'alice');
  await foreign.close();
  await expectOpenError(t, dir, 'foreign-leveldb', /holds a LevelDB that is not a kubelite store \(no "m\/format" key\)/);
  const check = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await check.open();
  t.is(await check.get('users/1'), 'alice');
  t.is((await check.get('m/format')) as string | undefined, undefined);
  await check.close();
});

test('a store of another format version is refused', async (t) => {
  const dir = path.join(await tempDir(t), 'db');
  const s = await openAt(dir);
  await s.create(R.configmaps, configMap('default', 'a'));
  await s.close();
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await db.put('m/format', 'kubelite-store/99');
  await db.close();
  await expectOpenError(t, dir, 'format', /has store format "kubelite-store\/99" but this kubelite reads "kubelite-store\/1"/);
});

test('a corrupt LevelDB gives a clear error and is not repaired', async (t) => {
  const dir = await tempDir(t);
  await fs.writeFile(path.join(dir, 'CURRENT'), 'garbage without newline');
  await fs.writeFile(path.join(dir, 'MANIFEST-000001'), 'not a manifest');
  const before = await snapshotFiles(dir);
  await expectOpenError(t, dir, 'corrupt', /holds a corrupt LevelDB \(Corruption: .*\); kubelite does not repair it/);
  const after = await snapshotFiles(dir);
  // LevelDB itself may add its LOCK and LOG files; every original file is unchanged.
  for (const [file, content] of before) t.is(after.get(file), content, file);
});

test('a store in use by another instance is reported as locked', async (t) => {
  const dir = path.join(await tempDir(t), 'store');
  const first = await openAt(dir);
  t.teardown(() => first.close());
  await expectOpenError(t, dir, 'locked', /is locked: is another kubelite server running\?/);
  // The failed attempt did not disturb the running one.
  await first.create(R.configmaps, configMap('default', 'a'));
  t.is(first.count(), 1);
});

test('an object that is not JSON is reported, not skipped', async (t) => {
  const dir = path.join(await tempDir(t), 'store');
  const s = await openAt(dir);
  await s.create(R.configmaps, configMap('default', 'a'));
  await s.close();
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await db.put('o//configmaps/default/a', '{truncated');
  await db.close();
  await expectOpenError(t, dir, 'corrupt', /stored object "o\/\/configmaps\/default\/a" is unreadable/);
});

test('the store directory is 0700 and its files 0600 (Secrets live here), after open and after close', async (t) => {
  const dir = path.join(await tempDir(t), 'store');
  const s = await openAt(dir);
  await s.create(R.configmaps, configMap('default', 'perm'));
  const check = async (when: string) => {
    t.is((await fs.stat(dir)).mode & 0o777, 0o700, `${when}: directory mode`);
    for (const name of await fs.readdir(dir)) t.is((await fs.stat(path.join(dir, name))).mode & 0o777, 0o600, `${when}: ${name}`);
  };
  await check('open');
  await s.close();
  await check('closed');
});
