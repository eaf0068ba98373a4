// client-go's informer shape: list, then watch from the list's resourceVersion, into an in-memory
// cache that handlers and workers read. When the watch breaks (410 Expired, a transport error) the
// informer re-lists and emits the difference, so no change is ever lost and no reader needs the API.
// Cached objects are shared: callers must treat them as read-only and clone before changing them.

import type { KObject, WatchEvent } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import type { ApiClient, ListOptions, Watch } from './types.js';
import { objectKey } from '../api/keys.js';

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

type Logger = { warn(obj: unknown, msg?: string): void };

export class Informer<T extends KObject = KObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly indexers = new Map<string, (obj: T) => string[]>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private watch?: Watch;
  private stopped = false;
  private started = false;
  private syncedFlag = false;
  private syncedWaiters: (() => void)[] = [];
  private retryDelay = 100;
  private retryTimer?: NodeJS.Timeout;
  /** The resourceVersion of the newest event applied. */
  lastResourceVersion = '';

  constructor(
    private readonly client: ApiClient,
    readonly resource: ResourceInfo,
    private readonly opts: ListOptions & { logger?: Logger } = {},
  ) {}

  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    // Late subscribers see the current state as adds, like client-go's AddEventHandler.
    if (this.syncedFlag) for (const obj of this.cache.values()) handlers.add?.(obj);
    return this;
  }

  /** An index maps an object to keys (e.g. labels, nodeName, owner uid) for O(1) lookups. */
  addIndex(name: string, fn: (obj: T) => string[]): this {
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.cache) for (const v of fn(obj)) addToIndex(index, v, key);
    return this;
  }

  /** Resolves once the first list is in the cache (retrying until it is). Idempotent. */
  async start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.stopped = false;
      void this.listAndWatch();
    }
    await this.synced();
  }

  stop(): void {
    this.stopped = true;
    this.started = false;
    clearTimeout(this.retryTimer);
    this.watch?.stop();
    this.watch = undefined;
  }

  get hasSynced(): boolean {
    return this.syncedFlag;
  }

  synced(): Promise<void> {
    if (this.syncedFlag) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): T[] {
    const out: T[] = [];
    for (const obj of this.cache.values()) if (namespace === undefined || obj.metadata.namespace === namespace) out.push(obj);
    return out;
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indices.get(name)?.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.cache.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  get size(): number {
    return this.cache.size;
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await this.client.list<T>(this.resource, this.opts);
      if (this.stopped) return;
      this.replace(list.items);
      this.lastResourceVersion = list.metadata.resourceVersion ?? '';
      this.markSynced();
      this.retryDelay = 100;
      this.startWatch();
    } catch (err) {
      this.opts.logger?.warn({ err, resource: this.resource.plural }, 'informer list failed; retrying');
      this.scheduleRetry();
    }
  }

  private startWatch(): void {
    this.watch = this.client.watch<T>(
      this.resource,
      { ...this.opts, resourceVersion: this.lastResourceVersion },
      {
        onEvent: (ev) => this.apply(ev),
        onClose: (err) => {
          this.watch = undefined;
          if (this.stopped) return;
          // A closed watch (410 or transport) is healed by a re-list; the diff is emitted as events.
          if (err && (err as { code?: number }).code !== 410) this.opts.logger?.warn({ err, resource: this.resource.plural }, 'informer watch closed');
          this.scheduleRetry(err ? undefined : 0);
        },
      },
    );
  }

  private scheduleRetry(delay = this.retryDelay): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.listAndWatch(), delay);
    this.retryDelay = Math.min(this.retryDelay * 2, 5000);
  }

  private markSynced(): void {
    if (this.syncedFlag) return;
    this.syncedFlag = true;
    for (const w of this.syncedWaiters.splice(0)) w();
  }

  private apply(ev: WatchEvent<T>): void {
    if (ev.type === 'BOOKMARK') {
      this.lastResourceVersion = ev.object.metadata.resourceVersion ?? this.lastResourceVersion;
      return;
    }
    if (ev.type === 'ERROR') return;
    const obj = ev.object;
    const key = objectKey(obj);
    this.lastResourceVersion = obj.metadata.resourceVersion ?? this.lastResourceVersion;
    const old = this.cache.get(key);
    if (ev.type === 'DELETED') {
      if (!old) return;
      this.remove(key, old);
      for (const h of this.handlers) h.delete?.(obj);
      return;
    }
    this.put(key, obj, old);
    for (const h of this.handlers) {
      if (old) h.update?.(old, obj);
      else h.add?.(obj);
    }
  }

  /** Swaps in a fresh list, emitting adds, updates (changed resourceVersion) and deletes. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.put(key, obj, old);
      for (const h of this.handlers) {
        if (old) h.update?.(old, obj);
        else h.add?.(obj);
      }
    }
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.remove(key, old);
      for (const h of this.handlers) h.delete?.(old);
    }
  }

  private put(key: string, obj: T, old: T | undefined): void {
    this.cache.set(key, obj);
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      if (old) for (const v of fn(old)) removeFromIndex(index, v, key);
      for (const v of fn(obj)) addToIndex(index, v, key);
    }
  }

  private remove(key: string, old: T): void {
    this.cache.delete(key);
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const v of fn(old)) removeFromIndex(index, v, key);
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, value: string, key: string): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(key);
}

function removeFromIndex(index: Map<string, Set<string>>, value: string, key: string): void {
  const set = index.get(value);
  if (!set) return;
  set.delete(key);
  if (set.size === 0) index.delete(value);
}

/** One shared informer per resource, so every component in a process reads the same cache. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer>();
  constructor(
    private readonly client: ApiClient,
    private readonly logger?: Logger,
  ) {}

  for<T extends KObject>(res: ResourceInfo): Informer<T> {
    const key = `${res.apiVersion}/${res.plural}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer(this.client, res, { logger: this.logger });
      this.informers.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer created so far and resolves when all have synced. */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const inf of this.informers.values()) inf.stop();
  }
}
