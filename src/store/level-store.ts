// The store on LevelDB: every decision is CoreStore's; this file only opens the directory safely,
// loads the index at start, and writes each committed group (objects + the rv counter) as one atomic
// LevelDB batch, so the counter can never fall behind the objects after a crash or `kill -9`.

import fs from 'node:fs/promises';
import nodePath from 'node:path';
import { Level } from 'level';
import type { KObject } from '../api/types.js';
import { CoreStore, EMPTY_STORE_RV, type CoreStoreOptions, type LoadedObject, type PersistWrite } from './core-store.js';
import { resourceFor } from './resource-of.js';
import { explainOpenFailure, judgeDataDir, judgeMeta, StoreOpenError, type DirContents } from './data-dir.js';
import { META_FORMAT_KEY, META_RV_KEY, OBJECT_PREFIX, OBJECT_PREFIX_END, parseObjectKey, parseResourceVersion, STORE_FORMAT } from './keys.js';

export interface LevelStoreOptions extends CoreStoreOptions {
  /** The LevelDB directory (created if missing). */
  path: string;
}

async function readDir(path: string): Promise<DirContents> {
  try {
    return { kind: 'entries', names: await fs.readdir(path) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ENOTDIR') return { kind: 'not-a-directory' };
    throw new StoreOpenError('io', path, `data dir ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

/** Secrets are stored here: the directory is 0700 and every file 0600, whatever the umask gave them. */
async function restrictPermissions(dir: string): Promise<void> {
  await fs.chmod(dir, 0o700);
  for (const name of await fs.readdir(dir)) await fs.chmod(nodePath.join(dir, name), 0o600).catch(() => undefined);
}

export class LevelStore extends CoreStore {
  readonly path: string;
  private db: Level<string, string> | undefined;

  constructor(opts: LevelStoreOptions) {
    super(opts);
    this.path = nodePath.resolve(opts.path);
  }

  async open(): Promise<void> {
    this.beginOpen();
    let db: Level<string, string> | undefined;
    try {
      const verdict = judgeDataDir(this.path, await readDir(this.path));
      if (verdict instanceof Error) throw verdict;
      const createIfMissing = verdict === 'create';
      // Every object also lives in memory, so LevelDB is only read at open: a small block cache and write
      // buffer keep its share of the server's RSS low (defaults are 8 MiB and 4 MiB).
      db = new Level<string, string>(this.path, { keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing, errorIfExists: false, cacheSize: 512 * 1024, writeBufferSize: 1024 * 1024 });
      try {
        await db.open({ createIfMissing, errorIfExists: false });
      } catch (e) {
        throw explainOpenFailure(this.path, e);
      }

      const format = await db.get(META_FORMAT_KEY);
      const hasAnyKey = format !== undefined || (await db.keys({ limit: 1 }).all()).length > 0;
      const meta = judgeMeta(this.path, format, hasAnyKey);
      if (meta instanceof Error) throw meta;
      if (meta === 'initialize') {
        await db.batch([
          { type: 'put', key: META_FORMAT_KEY, value: STORE_FORMAT },
          { type: 'put', key: META_RV_KEY, value: String(EMPTY_STORE_RV) },
        ]);
      }

      const rvText = (await db.get(META_RV_KEY)) ?? String(EMPTY_STORE_RV);
      const rv = parseResourceVersion(rvText);
      if (rv === undefined) throw new StoreOpenError('corrupt', this.path, `data dir ${this.path}: key "${META_RV_KEY}" holds ${JSON.stringify(rvText)}, not a resourceVersion; kubelite does not repair it: restore a backup`);
      const objects = await this.loadObjects(db);
      await restrictPermissions(this.path);
      this.db = db;
      this.finishOpen(objects, rv);
    } catch (e) {
      this.failOpen();
      if (db && db.status === 'open') await db.close().catch(() => undefined);
      throw e;
    }
  }

  private async loadObjects(db: Level<string, string>): Promise<LoadedObject[]> {
    const out: LoadedObject[] = [];
    for await (const [key, json] of db.iterator({ gte: OBJECT_PREFIX, lt: OBJECT_PREFIX_END, fillCache: false })) {
      const parsed = parseObjectKey(key);
      let obj: KObject | undefined;
      try {
        obj = JSON.parse(json) as KObject;
      } catch {
        obj = undefined;
      }
      const rv = parseResourceVersion(String(obj?.metadata?.resourceVersion ?? ''));
      if (!parsed || !obj || rv === undefined) {
        throw new StoreOpenError('corrupt', this.path, `data dir ${this.path}: stored object ${JSON.stringify(key)} is unreadable; kubelite does not repair it: restore a backup`);
      }
      const resource = resourceFor(parsed.group, parsed.plural, obj, parsed.namespace !== '');
      out.push({ resource, namespace: parsed.namespace, name: parsed.name, json, rv });
    }
    return out;
  }

  protected async persist(writes: PersistWrite[], rv: number): Promise<void> {
    const ops: ({ type: 'put'; key: string; value: string } | { type: 'del'; key: string })[] = writes.map((w) =>
      w.value === undefined ? { type: 'del', key: w.key } : { type: 'put', key: w.key, value: w.value },
    );
    ops.push({ type: 'put', key: META_RV_KEY, value: String(rv) });
    // sync:false: LevelDB's write-ahead log already survives a process crash; only power loss could
    // drop the last writes, and fsync per group would cap throughput at the disk's flush rate.
    await this.db!.batch(ops);
  }

  protected async closeBackend(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    await db?.close();
    // Files LevelDB created while open (new tables, logs) were made under the 0700 directory; tighten them too.
    await restrictPermissions(this.path).catch(() => undefined);
  }

  protected describe(): string {
    return `the store at ${this.path}`;
  }
}
