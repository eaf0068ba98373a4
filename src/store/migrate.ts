// Moving a one-host LevelDB store into etcd: every object, in resourceVersion order, with etcd's
// revision first advanced past the LevelDB store's newest resourceVersion. Clients that remember a
// resourceVersion from the old server then resume with a 410 and re-list (their version is older
// than anything the new store serves), never with a version "from the future" that would make them
// skip changes. The source is only read; the target prefix must hold no objects yet.

import type { KObject } from '../api/types.js';
import type { BatchOp, Store } from './types.js';
import type { EtcdStore } from './etcd-store.js';
import type { EventRecord } from './event-ring.js';

/** etcd refuses a transaction of more than 128 operations or 1.5 MiB by default. */
const MAX_OPS = 100;
const MAX_BYTES = 1024 * 1024;

export interface MigrateProgress {
  (what: 'advance' | 'copy', done: number, total: number): void;
}

export interface MigrateResult {
  objects: number;
  /** The source's newest resourceVersion. */
  sourceResourceVersion: number;
  /** etcd's revision once the copy was done (every copied object's resourceVersion is above sourceResourceVersion). */
  targetResourceVersion: number;
}

/** Groups creates into transactions etcd accepts. Pure. */
export function chunkOps(ops: { op: BatchOp; bytes: number }[], maxOps = MAX_OPS, maxBytes = MAX_BYTES): BatchOp[][] {
  const out: BatchOp[][] = [];
  let cur: BatchOp[] = [];
  let size = 0;
  for (const { op, bytes } of ops) {
    if (cur.length > 0 && (cur.length >= maxOps || size + bytes > maxBytes)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(op);
    size += bytes;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export async function migrateToEtcd(source: Store, target: EtcdStore, progress: MigrateProgress = () => undefined): Promise<MigrateResult> {
  const existing = target.count();
  if (existing > 0) throw new Error(`the target ${target.keys.root} on ${target.hosts.join(',')} already holds ${existing} objects: migrate only into an empty prefix (choose another --etcd-prefix)`);
  // Every current object, oldest first, exactly as stored (a synthetic ADDED per object).
  const records: EventRecord[] = [];
  const sub = source.watch({ initial: true }, (ev) => records.push({ type: 'ADDED', resource: ev.resource, resKey: '', namespace: '', rv: ev.rv, json: JSON.stringify(ev.object) }));
  sub.stop();
  const sourceRv = Number(source.currentResourceVersion());

  await target.advanceRevisionTo(sourceRv + 1, (done, total) => progress('advance', done, total));

  const ops = records.map((r) => {
    const object = JSON.parse(r.json) as KObject;
    return { op: { op: 'create' as const, resource: r.resource, object }, bytes: r.json.length };
  });
  let done = 0;
  for (const chunk of chunkOps(ops)) {
    await target.batch(chunk);
    done += chunk.length;
    progress('copy', done, ops.length);
  }
  return { objects: ops.length, sourceResourceVersion: sourceRv, targetResourceVersion: Number(target.currentResourceVersion()) };
}
