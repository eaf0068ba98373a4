// Everything a store decides, in one place: the in-memory index (one JSON string per object), the
// global resourceVersion counter, preconditions, group commit and the watch log. Backends only say how
// a committed group reaches disk (`persist`) and how the index is loaded at open, so the memory store
// used by unit tests and the LevelDB store behave identically by construction.

import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import { errors, isStatusError } from '../api/errors.js';
import type { BatchOp, Store, StoreEvent, StoreEventType, StoreWatchOptions, WatchSubscription, WriteOptions } from './types.js';
import type { EventRecord } from './event-ring.js';
import { keyName, keyNamespace, objectCoordinates, objectKey, resourceKey } from './keys.js';
import { ObjectIndex, type IndexEntry } from './object-index.js';
import { WatchHub } from './watch-hub.js';

export const DEFAULT_EVENT_LOG_SIZE = 10_000;
/** The resourceVersion of an empty store: "0" means "any version" to Kubernetes clients, so never use it. */
export const EMPTY_STORE_RV = 1;

/** One key of a committed group: `value` undefined deletes it. */
export interface PersistWrite {
  key: string;
  value?: string;
}

/** An object as loaded from the backend at open. */
export interface LoadedObject {
  resource: ResourceInfo;
  namespace: string;
  name: string;
  json: string;
  rv: number;
}

export interface CoreStoreOptions {
  eventLogSize?: number;
}

type Entry = IndexEntry;

interface PendingWrite {
  ops: BatchOp[];
  resolve: (objects: KObject[]) => void;
  reject: (err: unknown) => void;
}

interface PlannedOp {
  type: StoreEventType;
  resource: ResourceInfo;
  resKey: string;
  namespace: string;
  name: string;
  key: string;
  rv: number;
  /** The stored state (for DELETED: the last state, stamped with the deletion's rv). */
  json: string;
  oldJson?: string;
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

/** Entries planned but not yet applied: null marks a planned delete. */
type Overlay = Map<string, Entry | null>;

function stampedJson(obj: KObject, rv: number): string {
  try {
    return JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } });
  } catch (e) {
    throw errors.badRequest(`object cannot be stored as JSON: ${(e as Error).message}`);
  }
}

export abstract class CoreStore implements Store {
  private readonly index = new ObjectIndex();
  private readonly hub: WatchHub;
  private rv = EMPTY_STORE_RV;
  private state: State = 'new';
  private pending: PendingWrite[] = [];
  private flushing: Promise<void> | null = null;

  protected constructor(opts: CoreStoreOptions = {}) {
    this.hub = new WatchHub(opts.eventLogSize ?? DEFAULT_EVENT_LOG_SIZE, EMPTY_STORE_RV);
  }

  abstract open(): Promise<void>;

  /** Makes one committed group durable, with `rv` as the new counter, atomically. */
  protected abstract persist(writes: PersistWrite[], rv: number): Promise<void>;

  /** Releases the backend once every pending write is flushed. */
  protected abstract closeBackend(): Promise<void>;

  /** Describes the store in "closed"/"not open" errors. */
  protected abstract describe(): string;

  // ---------- lifecycle (for backends) ----------

  protected beginOpen(): void {
    if (this.state !== 'new') throw new Error(`${this.describe()} was already opened (state: ${this.state}); create a new store instead`);
    this.state = 'opening';
  }

  /** Installs what the backend loaded; the watch log starts empty at `rv` (older watches get 410). */
  protected finishOpen(objects: Iterable<LoadedObject>, rv: number): void {
    let maxRv = Math.max(rv, EMPTY_STORE_RV);
    for (const o of objects) {
      this.index.put(o.resource, resourceKey(o.resource), o.namespace, o.name, { json: o.json, rv: o.rv });
      if (o.rv > maxRv) maxRv = o.rv;
    }
    this.rv = maxRv;
    this.hub.ring.reset(maxRv);
    this.state = 'open';
  }

  protected failOpen(): void {
    this.state = 'new';
  }

  async close(): Promise<void> {
    if (this.state === 'opening') throw new Error(`${this.describe()} is still opening; wait for open() before closing it`);
    if (this.state === 'closed' || this.state === 'closing' || this.state === 'new') {
      this.state = this.state === 'new' ? 'closed' : this.state;
      return;
    }
    this.state = 'closing';
    while (this.flushing) await this.flushing;
    this.hub.closeAll();
    try {
      await this.closeBackend();
    } finally {
      this.state = 'closed';
    }
  }

  private unavailable(): Error {
    if (this.state === 'new' || this.state === 'opening') return errors.serviceUnavailable(`${this.describe()} is not open: call open() first`);
    return errors.serviceUnavailable(`${this.describe()} is closed`);
  }

  private assertReadable(): void {
    if (this.state !== 'open' && this.state !== 'closing') throw this.unavailable();
  }

  // ---------- reads: memory only ----------

  currentResourceVersion(): string {
    return String(this.rv);
  }

  async get(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    this.assertReadable();
    const entry = this.lookup(resourceKey(resource), keyNamespace(resource, namespace), keyName(resource, name));
    return entry ? (JSON.parse(entry.json) as KObject) : undefined;
  }

  async list(resource: ResourceInfo, namespace?: string): Promise<{ items: KObject[]; resourceVersion: string }> {
    this.assertReadable();
    const resourceVersion = String(this.rv);
    const entries = this.index.list(resource, resource.namespaced && namespace ? namespace : undefined);
    return { items: entries.map((e) => JSON.parse(e.json) as KObject), resourceVersion };
  }

  count(resource?: ResourceInfo): number {
    this.assertReadable();
    return this.index.count(resource);
  }

  // ---------- writes: queued, group-committed ----------

  async create(resource: ResourceInfo, object: KObject): Promise<KObject> {
    return (await this.enqueue([{ op: 'create', resource, object }]))[0]!;
  }

  async update(resource: ResourceInfo, object: KObject, options?: WriteOptions): Promise<KObject> {
    return (await this.enqueue([{ op: 'update', resource, object, options }]))[0]!;
  }

  async delete(resource: ResourceInfo, namespace: string | undefined, name: string, options?: WriteOptions): Promise<KObject> {
    return (await this.enqueue([{ op: 'delete', resource, namespace, name, options }]))[0]!;
  }

  async batch(ops: BatchOp[]): Promise<KObject[]> {
    if (ops.length === 0) {
      if (this.state !== 'open') throw this.unavailable();
      return [];
    }
    return this.enqueue([...ops]);
  }

  private enqueue(ops: BatchOp[]): Promise<KObject[]> {
    if (this.state !== 'open') return Promise.reject(this.unavailable());
    return new Promise<KObject[]>((resolve, reject) => {
      this.pending.push({ ops, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once so every write issued in the same tick joins the first group.
    await null;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        await this.commit(group);
      } catch (e) {
        // A bug, not a storage failure; settling the callers keeps the store from wedging.
        const err = errors.internal(`store commit failed: ${(e as Error)?.message ?? String(e)}`);
        group.forEach((w) => w.reject(err));
      }
    }
    // Synchronously after the emptiness check, so a write enqueued later starts a new loop.
    this.flushing = null;
  }

  /**
   * Checks each write in order against memory plus the writes before it in the group, persists all
   * accepted ones as one backend batch, then applies them to memory and the watch log in rv order
   * and settles every caller. A failed check fails only its own write (a batch as a whole).
   */
  private async commit(group: PendingWrite[]): Promise<void> {
    const overlay: Overlay = new Map();
    const outcomes: ({ planned: PlannedOp[] } | { error: unknown })[] = [];
    let next = this.rv;
    for (const w of group) {
      const local: Overlay = new Map();
      try {
        const planned: PlannedOp[] = [];
        let rv = next;
        for (const op of w.ops) planned.push(this.plan(op, ++rv, local, overlay));
        next = rv;
        for (const [k, v] of local) overlay.set(k, v);
        outcomes.push({ planned });
      } catch (error) {
        outcomes.push({ error });
      }
    }

    const accepted = outcomes.flatMap((o) => ('planned' in o ? o.planned : []));
    if (accepted.length > 0) {
      try {
        await this.persist(
          accepted.map((p) => (p.type === 'DELETED' ? { key: p.key } : { key: p.key, value: p.json })),
          next,
        );
      } catch (e) {
        // Nothing was applied (the backend batch is atomic); checks that relied on this group are moot too.
        const err = isStatusError(e) ? e : errors.internal(`storage write failed: ${(e as Error)?.message ?? String(e)}`);
        group.forEach((w) => w.reject(err));
        return;
      }
      for (const p of accepted) this.apply(p);
    }

    group.forEach((w, i) => {
      const o = outcomes[i]!;
      if ('error' in o) w.reject(o.error);
      else w.resolve(o.planned.map((p) => JSON.parse(p.json) as KObject));
    });
  }

  private plan(op: BatchOp, rv: number, local: Overlay, overlay: Overlay): PlannedOp {
    const resource = op.resource;
    const resKey = resourceKey(resource);
    let namespace: string;
    let name: string;
    if (op.op === 'delete') {
      namespace = keyNamespace(resource, op.namespace);
      name = keyName(resource, op.name);
    } else {
      ({ namespace, name } = objectCoordinates(resource, op.object));
    }
    const key = objectKey(resKey, namespace, name);
    const existing = local.has(key) ? local.get(key)! : overlay.has(key) ? overlay.get(key)! : this.lookup(resKey, namespace, name) ?? null;

    let planned: PlannedOp;
    if (op.op === 'create') {
      if (existing) throw errors.alreadyExists(resource, name);
      planned = { type: 'ADDED', resource, resKey, namespace, name, key, rv, json: stampedJson(op.object, rv) };
    } else {
      if (!existing) throw errors.notFound(resource, name);
      this.checkPreconditions(resource, name, existing, op.options);
      const json = op.op === 'update' ? stampedJson(op.object, rv) : stampedJson(JSON.parse(existing.json) as KObject, rv);
      planned = { type: op.op === 'update' ? 'MODIFIED' : 'DELETED', resource, resKey, namespace, name, key, rv, json, oldJson: existing.json };
    }
    local.set(key, planned.type === 'DELETED' ? null : { json: planned.json, rv });
    return planned;
  }

  private checkPreconditions(resource: ResourceInfo, name: string, existing: Entry, options: WriteOptions | undefined): void {
    if (!options) return;
    if (options.expectedUid !== undefined) {
      const uid = (JSON.parse(existing.json) as KObject).metadata.uid ?? '';
      if (uid !== options.expectedUid) {
        throw errors.conflict(resource, name, `Precondition failed: UID in precondition: ${options.expectedUid}, UID in object meta: ${uid}`);
      }
    }
    if (options.expectedResourceVersion !== undefined && options.expectedResourceVersion !== String(existing.rv)) {
      throw errors.staleResourceVersion(resource, name);
    }
  }

  private apply(p: PlannedOp): void {
    if (p.type === 'DELETED') this.index.remove(p.resKey, p.namespace, p.name);
    else this.index.put(p.resource, p.resKey, p.namespace, p.name, { json: p.json, rv: p.rv });
    this.rv = p.rv;
    const rec: EventRecord = { type: p.type, resource: p.resource, resKey: p.resKey, namespace: p.namespace, rv: p.rv, json: p.json, oldJson: p.oldJson };
    this.hub.publish(rec);
  }

  // ---------- watch ----------

  watch(options: StoreWatchOptions, onEvent: (event: StoreEvent) => void, onClose?: (err?: Error) => void): WatchSubscription {
    this.assertReadable();
    // Memory only changes in apply(), which runs synchronously; the hub subscribes right after building
    // the backlog, so no change can fall between the backlog and live delivery.
    return this.hub.watch(options, onEvent, onClose, (resource, namespace) => this.index.snapshot(resource, namespace));
  }

  /** Open watches (for metrics). */
  watchCount(): number {
    return this.hub.size;
  }

  // ---------- index ----------

  private lookup(resKey: string, namespace: string, name: string): Entry | undefined {
    return this.index.lookup(resKey, namespace, name);
  }
}
