// Store metrics on the default prom-client registry (served at /metrics): request latency by verb and
// backend, open watches, and whether the backend answers. Any Store is wrapped the same way, so LevelDB
// and etcd figures sit side by side.

import promClient from 'prom-client';
import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import type { BatchOp, Store, StoreEvent, StoreHealth, StoreWatchOptions, WatchSubscription, WriteOptions } from './types.js';

export type StoreBackend = 'etcd' | 'leveldb' | 'memory';

interface Instrumented {
  backend: StoreBackend;
  store: Store & { watchCount?(): number };
}

const live = new Set<Instrumented>();

function metric<T>(name: string, make: () => T): T {
  return (promClient.register.getSingleMetric(name) as T | undefined) ?? make();
}

function metrics() {
  const duration = metric('kubelite_store_request_duration_seconds', () => new promClient.Histogram({
    name: 'kubelite_store_request_duration_seconds',
    help: 'Latency of store requests by verb (get, list, create, update, delete, batch) and backend',
    labelNames: ['backend', 'verb', 'result'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  }));
  metric('kubelite_store_watches', () => new promClient.Gauge({
    name: 'kubelite_store_watches',
    help: 'Watches open on the store (API watches and in-process informers)',
    labelNames: ['backend'],
    collect() {
      this.reset();
      for (const s of live) this.inc({ backend: s.backend }, s.store.watchCount?.() ?? 0);
    },
  }));
  metric('kubelite_store_up', () => new promClient.Gauge({
    name: 'kubelite_store_up',
    help: '1 when the store\'s backend answers (etcd reachable and watched), else 0',
    labelNames: ['backend'],
    collect() {
      this.reset();
      for (const s of live) this.set({ backend: s.backend }, s.store.health ? Number(s.store.health().ok) : 1);
    },
  }));
  return { duration };
}

/** The same store, timing every request into kubelite_store_request_duration_seconds. */
export class InstrumentedStore implements Store {
  private readonly duration: promClient.Histogram<'backend' | 'verb' | 'result'>;
  private readonly entry: Instrumented;

  constructor(readonly inner: Store & { watchCount?(): number }, readonly backend: StoreBackend) {
    this.duration = metrics().duration;
    this.entry = { backend, store: inner };
  }

  private async timed<T>(verb: string, fn: () => Promise<T>): Promise<T> {
    const end = this.duration.startTimer({ backend: this.backend, verb });
    try {
      const out = await fn();
      end({ result: 'ok' });
      return out;
    } catch (err) {
      end({ result: String((err as { code?: number }).code ?? 'error') });
      throw err;
    }
  }

  async open(): Promise<void> {
    await this.inner.open();
    live.add(this.entry);
  }

  async close(): Promise<void> {
    live.delete(this.entry);
    await this.inner.close();
  }

  currentResourceVersion(): string {
    return this.inner.currentResourceVersion();
  }

  get(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    return this.timed('get', () => this.inner.get(resource, namespace, name));
  }

  getCached(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const inner = this.inner.getCached;
    return inner ? this.timed('get-cached', () => inner.call(this.inner, resource, namespace, name)) : this.get(resource, namespace, name);
  }

  list(resource: ResourceInfo, namespace?: string): Promise<{ items: KObject[]; resourceVersion: string }> {
    return this.timed('list', () => this.inner.list(resource, namespace));
  }

  count(resource?: ResourceInfo): number {
    return this.inner.count(resource);
  }

  create(resource: ResourceInfo, object: KObject): Promise<KObject> {
    return this.timed('create', () => this.inner.create(resource, object));
  }

  update(resource: ResourceInfo, object: KObject, options?: WriteOptions): Promise<KObject> {
    return this.timed('update', () => this.inner.update(resource, object, options));
  }

  delete(resource: ResourceInfo, namespace: string | undefined, name: string, options?: WriteOptions): Promise<KObject> {
    return this.timed('delete', () => this.inner.delete(resource, namespace, name, options));
  }

  batch(ops: BatchOp[]): Promise<KObject[]> {
    return this.timed('batch', () => this.inner.batch(ops));
  }

  watch(options: StoreWatchOptions, onEvent: (event: StoreEvent) => void, onClose?: (err?: Error) => void): WatchSubscription {
    return this.inner.watch(options, onEvent, onClose);
  }

  watchCount(): number {
    return this.inner.watchCount?.() ?? 0;
  }

  health(): StoreHealth {
    return this.inner.health?.() ?? { ok: true, message: this.backend };
  }
}
