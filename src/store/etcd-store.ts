// The store on etcd, shaped like kube-apiserver's: etcd holds every object (resourceVersion is the
// key's mod_revision), writes are compare-and-swap transactions, and one watch on the whole prefix feeds
// an in-memory cache (the "cacher") that serves watches, so every server sees every other server's
// writes in revision order. Reads are consistent: they wait until the cache has seen the newest write
// under the prefix (P/meta/rev, rewritten by every write), so a read never misses an acknowledged write,
// whichever server took it. A write returns only once this server's cache holds it, so a watch or read
// here right after sees it too.

import { Etcd3, type IKeyValue, type IRangeRequest, type IRangeResponse, type ITxnResponse } from 'etcd3';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, noop } from 'cockatiel';
import type { KObject } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import { errors, isStatusError } from '../api/errors.js';
import type { Logger } from '../util/log.js';
import type { BatchOp, Store, StoreEvent, StoreHealth, StoreWatchOptions, WatchSubscription, WriteOptions } from './types.js';
import type { EventRecord } from './event-ring.js';
import { ObjectIndex } from './object-index.js';
import { WatchHub } from './watch-hub.js';
import { keyName, keyNamespace, resourceKey } from './keys.js';
import { DEFAULT_EVENT_LOG_SIZE, EMPTY_STORE_RV } from './core-store.js';
import { ETCD_STORE_FORMAT, EtcdKeys, prefixRangeEnd, DEFAULT_ETCD_PREFIX } from './etcd-config.js';
import { classifyEtcdError, etcdStatusError } from './etcd-errors.js';
import { decodeObject, decodeSuccess, explainFailure, planTxn, wasApplied, type SeenKV, type TxnPlan } from './etcd-txn.js';
import { EtcdWatchFeed } from './etcd-watch.js';
import { EtcdCompactor } from './etcd-compactor.js';
import { knownResource, resourceFor } from './resource-of.js';
import { StoreOpenError } from './data-dir.js';

export interface EtcdStoreOptions {
  /** `http://host:port` / `https://host:port`, one per member. */
  hosts: string[];
  prefix?: string;
  /** PEM contents (not paths). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  eventLogSize?: number;
  /** Deadline of one etcd request (default 5 s). */
  requestTimeoutMs?: number;
  /** How often to compact etcd's history (default 5 minutes; 0: never, e.g. when etcd compacts itself). */
  compactionIntervalMs?: number;
  logger?: Logger;
}

type State = 'new' | 'opening' | 'open' | 'closing' | 'closed';

interface Waiter {
  rv: number;
  resolve: () => void;
}

const RANGE_PAGE = 500;
const WRITE_ATTEMPTS = 3;
const UID_RETRIES = 5;
const READ_ATTEMPTS = 4;

export class EtcdStore implements Store {
  readonly keys: EtcdKeys;
  readonly hosts: string[];
  private client: Etcd3 | undefined;
  private readonly index = new ObjectIndex();
  private readonly hub: WatchHub;
  private rv = EMPTY_STORE_RV;
  private state: State = 'new';
  private feed: EtcdWatchFeed | undefined;
  private compactor: EtcdCompactor | undefined;
  private waiters: Waiter[] = [];
  /** Why the watch is down (cleared when it is back): what /readyz reports. */
  private lastError: string | undefined;
  /** The last failed request, for messages only (one failed request does not make the store unready). */
  private lastRequestError: string | undefined;
  private inflightRev: Promise<number> | undefined;
  private queuedRev: Promise<number> | undefined;
  private readonly requestTimeoutMs: number;
  /** Writes under way: close() lets them finish. */
  private readonly writing = new Set<Promise<unknown>>();
  /** While the watch replays the changes before the load: they go to the history only. */
  private backfill: { upTo: number; lastWrite: number; events: EventRecord[] } | undefined;
  private backfillFrom = 0;

  constructor(private readonly opts: EtcdStoreOptions) {
    if (opts.hosts.length === 0) throw new Error('the etcd store needs at least one endpoint');
    this.keys = new EtcdKeys(opts.prefix ?? DEFAULT_ETCD_PREFIX);
    this.hosts = opts.hosts;
    this.hub = new WatchHub(opts.eventLogSize ?? DEFAULT_EVENT_LOG_SIZE, EMPTY_STORE_RV);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
  }

  private describe(): string {
    return `the etcd store ${this.keys.root} on ${this.hosts.join(',')}`;
  }

  // ---------- lifecycle ----------

  /**
   * Connects, claims the prefix (an empty one) or checks it is kubelite's, loads every object and starts
   * the watch. One attempt: a StoreOpenError for a prefix that is not ours (do not retry), a 503
   * StatusError naming the endpoints when etcd cannot be reached (retry; see openWithRetry).
   */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`${this.describe()} was already opened (state: ${this.state}); create a new store instead`);
    this.state = 'opening';
    const t = this.opts.tls;
    const client = new Etcd3({
      hosts: this.hosts,
      ...(t?.ca || t?.cert ? { credentials: { rootCertificate: t.ca ?? Buffer.alloc(0), privateKey: t.key, certChain: t.cert } } : {}),
      dialTimeout: this.requestTimeoutMs,
      // kubelite decides what to retry (only what etcd never received, or what it can verify);
      // each member gets a breaker so a dead one is skipped for a second instead of timing out every call.
      faultHandling: {
        global: noop,
        host: () => circuitBreaker(handleWhen((e) => classifyEtcdError(e) === 'unsent'), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(2) }),
      },
      grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.requestTimeoutMs }),
    });
    this.client = client;
    try {
      await this.claimPrefix(client);
      const { kvs, revision, newestWrite } = await this.rangeAll(client);
      this.load(kvs, revision);
      // The watch starts a little in the past: the changes before the load fill the history, so a
      // client that watched another server (or this one before a restart) resumes here without a
      // re-list. Those events only fill the history; the load already holds their result.
      this.backfill = { upTo: revision, lastWrite: newestWrite, events: [] };
      const from = Math.max(1, newestWrite - (this.opts.eventLogSize ?? DEFAULT_EVENT_LOG_SIZE));
      let watching!: () => void;
      const watchUp = new Promise<void>((r) => (watching = r));
      this.feed = new EtcdWatchFeed(client, this.keys.objects, {
        onEvents: (events) => {
          this.applyEvents(events);
          if (!this.backfill) watching();
        },
        onCompacted: (rev) => {
          // History that old is gone: start the backfill at the oldest revision etcd still has.
          if (this.backfill && rev <= this.backfill.upTo) this.startFeed(rev);
          else void this.relist(rev);
        },
        onState: (connected, err) => {
          this.lastError = connected ? undefined : `watch: ${err?.message ?? 'disconnected'}`;
          if (connected && this.backfill && this.backfill.lastWrite < this.backfillFrom) this.finishBackfill();
          if (connected && !this.backfill) watching();
        },
      }, this.opts.logger);
      this.startFeed(from);
      // Serve only once the watch runs (our own writes come back through it) and the history is in.
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.requestTimeoutMs).unref());
      if ((await Promise.race([watchUp, timeout])) === 'timeout') {
        this.feed.stop();
        throw errors.serviceUnavailable(`etcd ${this.hosts.join(',')}: the watch on ${this.keys.objects} did not start within ${this.requestTimeoutMs} ms (${this.lastError ?? 'no answer'})`);
      }
      this.compactor = new EtcdCompactor(client, this.keys.compact, this.opts.compactionIntervalMs ?? 5 * 60_000, this.opts.logger);
      this.compactor.start();
      this.state = 'open';
    } catch (err) {
      this.state = 'new';
      this.client = undefined;
      client.close();
      const e = err instanceof StoreOpenError || isStatusError(err) ? err : etcdStatusError(err, 'the first read', this.hosts);
      this.lastError = e.message;
      throw e;
    }
  }

  /**
   * A read (range), sent again on another member when it failed without an answer: reads change
   * nothing, so any connection failure may be retried, as etcd's own client does.
   */
  private async range(client: Etcd3, req: IRangeRequest): Promise<IRangeResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.kv.range(req);
      } catch (err) {
        const kind = classifyEtcdError(err);
        if ((kind !== 'unsent' && kind !== 'ambiguous') || attempt >= READ_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 25 * attempt));
      }
    }
  }

  /** Refuses a prefix holding keys kubelite did not write; marks an empty one as ours. */
  private async claimPrefix(client: Etcd3): Promise<void> {
    const formatKey = Buffer.from(this.keys.format);
    const format = (await this.range(client, { key: formatKey })).kvs[0]?.value.toString();
    if (format === ETCD_STORE_FORMAT) return;
    const where = `etcd ${this.hosts.join(',')}`;
    if (format !== undefined) {
      throw new StoreOpenError('format', this.keys.root, `${where}: prefix ${this.keys.root} has store format ${JSON.stringify(format)} but this kubelite reads ${JSON.stringify(ETCD_STORE_FORMAT)}: run the kubelite that wrote it, or choose another --etcd-prefix`);
    }
    const root = Buffer.from(this.keys.root);
    const any = await this.range(client, { key: root, range_end: prefixRangeEnd(root), limit: 3, keys_only: true });
    if (any.kvs.length > 0) {
      const shown = any.kvs.map((kv) => kv.key.toString()).join(', ');
      throw new StoreOpenError('foreign', this.keys.root, `${where}: prefix ${this.keys.root} holds ${any.count} key(s) kubelite did not write (${shown}${Number(any.count) > 3 ? ', ...' : ''}); kubelite never deletes data it did not write: choose another --etcd-prefix`);
    }
    // Two servers claiming at once: the compare lets exactly one write; the other finds the marker next time.
    await client.kv.txn({ compare: [{ key: formatKey, target: 'Create', result: 'Equal', create_revision: 0 }], success: [{ request_put: { key: formatKey, value: Buffer.from(ETCD_STORE_FORMAT) } }], failure: [] });
  }

  private startFeed(from: number): void {
    this.backfillFrom = from;
    if (this.backfill) this.backfill.events = [];
    this.feed!.start(from);
  }

  /** The history before the load is in: it becomes the watch history; what follows is live. */
  private finishBackfill(): void {
    const b = this.backfill;
    if (!b) return;
    this.backfill = undefined;
    // Every change after backfillFrom - 1 is in hand (a full ring forgets the oldest and moves its floor).
    this.hub.ring.reset(this.backfillFrom - 1);
    for (const rec of b.events) this.hub.ring.push(rec);
  }

  /**
   * Every object under the prefix at one revision, a page at a time (a large store exceeds one
   * message), and the newest write under the prefix at that revision (P/meta/rev).
   */
  private async rangeAll(client: Etcd3): Promise<{ kvs: IKeyValue[]; revision: number; newestWrite: number }> {
    const start = Buffer.from(this.keys.objects);
    const end = prefixRangeEnd(start);
    const kvs: IKeyValue[] = [];
    let revision = 0;
    let from = start;
    for (;;) {
      const res = await this.range(client, { key: from, range_end: end, limit: RANGE_PAGE, ...(revision ? { revision } : {}) });
      if (!revision) revision = Number(res.header.revision);
      kvs.push(...res.kvs);
      if (!res.more || res.kvs.length === 0) break;
      from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    const rev = await this.range(client, { key: Buffer.from(this.keys.rev), revision });
    return { kvs, revision, newestWrite: Number(rev.kvs[0]?.mod_revision ?? 0) };
  }

  private load(kvs: IKeyValue[], revision: number): void {
    this.index.clear();
    for (const kv of kvs) {
      const parsed = this.keys.parseObject(kv.key.toString());
      if (!parsed) continue;
      const json = kv.value.toString();
      const resource = this.resourceOf(parsed, json);
      this.index.put(resource, resourceKey(resource), parsed.namespace, parsed.name, { json, rv: Number(kv.mod_revision) });
    }
    this.rv = Math.max(revision, EMPTY_STORE_RV);
    this.hub.ring.reset(this.rv);
    this.releaseWaiters();
  }

  /** The feed's start revision was compacted: read everything again; watchers must re-list (410). */
  private async relist(compactRevision: number): Promise<void> {
    this.opts.logger?.warn({ compactRevision, cacheRevision: this.rv }, 'etcd history compacted past the watch cache; re-reading');
    for (let delay = 100; this.state === 'open'; delay = Math.min(delay * 2, 5000)) {
      try {
        const { kvs, revision } = await this.rangeAll(this.client!);
        if (this.state !== 'open') return;
        this.load(kvs, revision);
        this.lastError = undefined;
        this.hub.closeAll(errors.gone(`too old resource version: the watch cache was re-read at ${revision} after etcd compacted its history`));
        this.feed!.start(revision + 1);
        return;
      } catch (err) {
        this.lastError = `re-read after compaction: ${(err as Error).message}`;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async close(): Promise<void> {
    if (this.state === 'opening') throw new Error(`${this.describe()} is still opening; wait for open() before closing it`);
    if (this.state !== 'open') {
      if (this.state === 'new') this.state = 'closed';
      return;
    }
    this.state = 'closing';
    await Promise.allSettled([...this.writing]);
    this.compactor?.stop();
    this.feed?.stop();
    this.hub.closeAll();
    this.releaseWaiters(true);
    this.client?.close();
    this.client = undefined;
    this.state = 'closed';
  }

  health(): StoreHealth {
    if (this.state !== 'open') return { ok: false, message: `${this.describe()} is ${this.state === 'new' ? 'not open yet' : this.state}` };
    if (this.lastError || !this.feed?.connected) return { ok: false, message: `etcd ${this.hosts.join(',')}: ${this.lastError ?? this.lastRequestError ?? 'watch connecting'}` };
    return { ok: true, message: `etcd ${this.hosts.join(',')} at revision ${this.rv}` };
  }

  private assertOpen(): Etcd3 {
    if (this.state !== 'open' || !this.client) {
      throw errors.serviceUnavailable(this.state === 'new' || this.state === 'opening' ? `${this.describe()} is not connected yet${this.lastError ? ` (${this.lastError})` : ''}` : `${this.describe()} is closed`);
    }
    return this.client;
  }

  // ---------- the watch cache ----------

  private applyEvents(events: import('etcd3').IEvent[]): void {
    for (const ev of events) {
      const key = ev.kv.key.toString();
      const parsed = this.keys.parseObject(key);
      const rv = Number(ev.kv.mod_revision);
      const b = this.backfill;
      if (b && rv <= b.upTo) {
        if (parsed) b.events.push(this.historyRecord(ev, parsed));
        if (rv >= b.lastWrite) this.finishBackfill();
        continue;
      }
      if (b) this.finishBackfill();
      if (!parsed) {
        this.rv = Math.max(this.rv, rv);
        continue;
      }
      const resKey = `${parsed.group}/${parsed.plural}`;
      const old = this.index.lookup(resKey, parsed.namespace, parsed.name);
      const prevJson = ev.prev_kv ? ev.prev_kv.value.toString() : old?.json;
      const prevRv = ev.prev_kv ? Number(ev.prev_kv.mod_revision) : old?.rv;
      let rec: EventRecord;
      if (ev.type === 'Delete') {
        if (prevJson === undefined) {
          this.rv = Math.max(this.rv, rv);
          continue;
        }
        const resource = this.resourceOf(parsed, prevJson);
        this.index.remove(resKey, parsed.namespace, parsed.name);
        rec = { type: 'DELETED', resource, resKey, namespace: parsed.namespace, rv, json: prevJson, oldJson: prevJson, oldRv: prevRv };
      } else {
        const json = ev.kv.value.toString();
        const resource = this.resourceOf(parsed, json);
        this.index.put(resource, resKey, parsed.namespace, parsed.name, { json, rv });
        const created = ev.kv.create_revision === ev.kv.mod_revision || prevJson === undefined;
        rec = created ? { type: 'ADDED', resource, resKey, namespace: parsed.namespace, rv, json } : { type: 'MODIFIED', resource, resKey, namespace: parsed.namespace, rv, json, oldJson: prevJson, oldRv: prevRv };
      }
      this.rv = Math.max(this.rv, rv);
      this.hub.publish(rec);
    }
    this.releaseWaiters();
  }

  /** A change from before the load, for the history only. */
  private historyRecord(ev: import('etcd3').IEvent, parsed: { group: string; plural: string; namespace: string }): EventRecord {
    const resKey = `${parsed.group}/${parsed.plural}`;
    const rv = Number(ev.kv.mod_revision);
    const prevJson = ev.prev_kv?.value.toString();
    const prevRv = ev.prev_kv ? Number(ev.prev_kv.mod_revision) : undefined;
    if (ev.type === 'Delete') {
      const json = prevJson ?? '{}';
      return { type: 'DELETED', resource: this.resourceOf(parsed, json), resKey, namespace: parsed.namespace, rv, json, oldJson: prevJson, oldRv: prevRv };
    }
    const json = ev.kv.value.toString();
    const base = { resource: this.resourceOf(parsed, json), resKey, namespace: parsed.namespace, rv, json };
    return prevJson === undefined ? { type: 'ADDED', ...base } : { type: 'MODIFIED', ...base, oldJson: prevJson, oldRv: prevRv };
  }

  private resourceOf(parsed: { group: string; plural: string; namespace: string }, json: string): ResourceInfo {
    const served = knownResource(parsed.group, parsed.plural);
    if (served) return served;
    let obj: KObject | undefined;
    try {
      obj = JSON.parse(json) as KObject;
    } catch {
      // A value that is not JSON still names its resource by its key.
    }
    return resourceFor(parsed.group, parsed.plural, obj, parsed.namespace !== '');
  }

  /** Resolves once the cache has applied revision `rv` (or the store closes). False on timeout. */
  private waitFor(rv: number, timeoutMs: number): Promise<boolean> {
    if (this.rv >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter: Waiter = { rv, resolve: () => { clearTimeout(timer); resolve(true); } };
      this.waiters.push(waiter);
    });
  }

  private releaseWaiters(all = false): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => all || w.rv <= this.rv);
    if (ready.length === 0) return;
    this.waiters = all ? [] : this.waiters.filter((w) => w.rv > this.rv);
    for (const w of ready) w.resolve();
  }

  /**
   * The newest revision of any write under the prefix, asked of etcd (a linearizable read). Reads that
   * arrive while one request is out share the next one, so a burst costs two round trips, not one each.
   */
  private newestWrite(): Promise<number> {
    const fetch = (): Promise<number> => {
      const p = this.range(this.assertOpen(), { key: Buffer.from(this.keys.rev) })
        .then((res) => Number(res.kvs[0]?.mod_revision ?? 0))
        .finally(() => {
          if (this.inflightRev === p) this.inflightRev = undefined;
        });
      this.inflightRev = p;
      return p;
    };
    if (!this.inflightRev) return fetch();
    this.queuedRev ??= this.inflightRev.then(noopValue, noopValue).then(() => {
      this.queuedRev = undefined;
      return fetch();
    });
    return this.queuedRev;
  }

  /** Waits until the cache holds every write acknowledged before this call (any server's). */
  private async consistent(what: string): Promise<void> {
    let newest: number;
    try {
      newest = await this.newestWrite();
    } catch (err) {
      this.lastRequestError = (err as Error).message;
      throw etcdStatusError(err, what, this.hosts);
    }
    if (!(await this.waitFor(newest, this.requestTimeoutMs))) {
      throw errors.timeout(`${what}: this server's watch of etcd has not caught up with revision ${newest} (it is at ${this.rv}); try again`);
    }
  }

  // ---------- reads ----------

  currentResourceVersion(): string {
    return String(this.rv);
  }

  async get(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    this.assertOpen();
    const ns = keyNamespace(resource, namespace);
    const nm = keyName(resource, name);
    await this.consistent(`get ${resource.plural} ${nm}`);
    const e = this.index.lookup(resourceKey(resource), ns, nm);
    return e ? decodeObject(e.json, e.rv) : undefined;
  }

  async getCached(resource: ResourceInfo, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    this.assertOpen();
    const e = this.index.lookup(resourceKey(resource), keyNamespace(resource, namespace), keyName(resource, name));
    return e ? decodeObject(e.json, e.rv) : undefined;
  }

  async list(resource: ResourceInfo, namespace?: string): Promise<{ items: KObject[]; resourceVersion: string }> {
    this.assertOpen();
    await this.consistent(`list ${resource.plural}`);
    const resourceVersion = String(this.rv);
    const entries = this.index.list(resource, resource.namespaced && namespace ? namespace : undefined);
    return { items: entries.map((e) => decodeObject(e.json, e.rv)), resourceVersion };
  }

  count(resource?: ResourceInfo): number {
    if (this.state !== 'open' && this.state !== 'closing') throw errors.serviceUnavailable(`${this.describe()} is ${this.state === 'closed' ? 'closed' : 'not open'}`);
    return this.index.count(resource);
  }

  watch(options: StoreWatchOptions, onEvent: (event: StoreEvent) => void, onClose?: (err?: Error) => void): WatchSubscription {
    this.assertOpen();
    return this.hub.watch(options, onEvent, onClose, (resource, namespace) => this.index.snapshot(resource, namespace));
  }

  watchCount(): number {
    return this.hub.size;
  }

  // ---------- writes ----------

  /**
   * Moves etcd's revision up to at least `revision` with empty writes of P/meta/advance (one revision
   * each), for `kubelite store migrate`: objects copied afterwards get newer resourceVersions than
   * any the old store handed out.
   */
  async advanceRevisionTo(revision: number, progress: (done: number, total: number) => void = () => undefined): Promise<void> {
    const client = this.assertOpen();
    const key = Buffer.from(`${this.keys.root}meta/advance`);
    const start = Number((await client.kv.range({ key, count_only: true })).header.revision);
    const total = Math.max(0, revision - start);
    let done = 0;
    const worker = async () => {
      while (done < total) {
        done++;
        await client.kv.put({ key, value: Buffer.alloc(0) });
        if (done % 1000 === 0) progress(done, total);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    progress(total, total);
  }

  async create(resource: ResourceInfo, object: KObject): Promise<KObject> {
    return (await this.write([{ op: 'create', resource, object }]))[0]!;
  }

  async update(resource: ResourceInfo, object: KObject, options?: WriteOptions): Promise<KObject> {
    return (await this.write([{ op: 'update', resource, object, options }]))[0]!;
  }

  async delete(resource: ResourceInfo, namespace: string | undefined, name: string, options?: WriteOptions): Promise<KObject> {
    return (await this.write([{ op: 'delete', resource, namespace, name, options }]))[0]!;
  }

  async batch(ops: BatchOp[]): Promise<KObject[]> {
    if (ops.length === 0) {
      this.assertOpen();
      return [];
    }
    return this.write(ops);
  }

  private write(ops: BatchOp[]): Promise<KObject[]> {
    const client = this.assertOpen();
    const p = this.writeOn(client, ops);
    this.writing.add(p);
    const done = () => this.writing.delete(p);
    p.then(done, done);
    return p;
  }

  private async writeOn(client: Etcd3, ops: BatchOp[]): Promise<KObject[]> {
    const what = ops.length === 1 ? `the ${ops[0]!.op} of ${ops[0]!.resource.plural}` : `a batch of ${ops.length} writes`;
    const needsRead = ops.some((o) => o.op !== 'create' && o.options?.expectedUid !== undefined);
    for (let round = 0; ; round++) {
      const known = needsRead ? await this.readKeys(client, ops, what) : undefined;
      const plan = planTxn(this.keys, ops, known);
      const res = await this.commit(client, plan, what);
      if ('applied' in res) {
        await this.echo(res.revision, what);
        return res.applied;
      }
      const why = explainFailure(plan, res.failed);
      if (why !== 'retry') throw why;
      if (round >= UID_RETRIES) throw errors.conflict(ops[0]!.resource, 'batch', 'the object kept changing while its uid precondition was checked; try again');
    }
  }

  /** Sends the txn, retrying what etcd surely never got, and verifying what it may have applied. */
  private async commit(client: Etcd3, plan: TxnPlan, what: string): Promise<{ applied: KObject[]; revision: number } | { failed: ITxnResponse }> {
    let uncertain = false;
    let lastErr: unknown;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      let res: ITxnResponse;
      try {
        res = await client.kv.txn(plan.request);
      } catch (err) {
        lastErr = err;
        const kind = classifyEtcdError(err);
        if (kind !== 'unsent' && kind !== 'ambiguous') throw etcdStatusError(err, what, this.hosts);
        if (kind === 'ambiguous') uncertain = true;
        this.lastRequestError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
        continue;
      }
      if (res.succeeded) return { applied: decodeSuccess(plan, res), revision: Number(res.header.revision) };
      if (uncertain) {
        // An earlier attempt may have applied: then the keys hold exactly what we wrote.
        const current: SeenKV[] = plan.writes.map((_, i) => res.responses[i]?.response_range?.kvs?.[0]);
        if (wasApplied(plan, current)) {
          const rev = Number(current[0]!.mod_revision);
          return { applied: plan.writes.map((w) => decodeObject(w.value!, rev)), revision: rev };
        }
      }
      return { failed: res };
    }
    throw uncertain ? errors.timeout(`etcd did not confirm ${what} (${this.hosts.join(', ')}); it may or may not have been applied: ${(lastErr as Error)?.message}`) : etcdStatusError(lastErr, what, this.hosts);
  }

  private async readKeys(client: Etcd3, ops: BatchOp[], what: string): Promise<Map<string, SeenKV>> {
    const plan = planTxn(this.keys, ops.map((o) => (o.op === 'create' ? o : { ...o, options: undefined })) as BatchOp[]);
    const known = new Map<string, SeenKV>();
    try {
      await Promise.all(plan.writes.map(async (w) => known.set(w.key, (await this.range(client, { key: Buffer.from(w.key) })).kvs[0])));
    } catch (err) {
      throw etcdStatusError(err, what, this.hosts);
    }
    return known;
  }

  /** Waits for this server's watch to deliver our own write, so reads and watches here see it next. */
  private async echo(revision: number, what: string): Promise<void> {
    if (!(await this.waitFor(revision, this.requestTimeoutMs))) {
      // Committed all the same: report success; the cache catches up when the watch is back.
      this.opts.logger?.warn({ revision, cache: this.rv, what }, 'etcd write committed but not yet seen by this server\'s watch');
    }
  }
}

function noopValue(): undefined {
  return undefined;
}
