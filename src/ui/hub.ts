// The live feed of the pages: one set of informer handlers (on the server's shared informers, so the
// UI adds no cache of its own) fanned out to every open page as Server-Sent Events. A page gets a
// snapshot of its namespace, then only changes (coalesced for a few milliseconds), the namespace's
// Events, and the per-endpoint counters every second while at least one page is open.

import type { KObject, Namespace, Node, Event as KEvent } from '../api/types.js';
import { R } from '../api/resources.js';
import type { ResourceInfo } from '../api/resources.js';
import type { ApiClient, Watch } from '../client/types.js';
import type { Informer, InformerFactory } from '../client/informer.js';
import { slim, slimEvent, slimNode } from './slim.js';
import { counterUpdate, type CounterSource } from './counters-feed.js';
import { wkey, type CounterStatus, type ServerMessage, type WCounter, type WEvent, type WNode, type WObject } from './wire.js';

type Logger = { warn(o: unknown, m?: string): void; debug(o: unknown, m?: string): void };

/** What a page's response is to the hub: an SSE body. */
export interface StreamSink {
  write(chunk: string): boolean;
  end(): void;
  readonly writableLength: number;
  on(event: 'close', fn: () => void): unknown;
}

export interface HubOptions {
  informers: InformerFactory;
  client: ApiClient;
  logger: Logger;
  clusterDomain: string;
  version: string;
  /** Undefined: counters are unavailable, for `countersOff` as the reason. */
  counters?: CounterSource;
  countersOff?: string;
  /** How long changes are coalesced before a page gets them. */
  flushMs?: number;
  sampleMs?: number;
  pingMs?: number;
}

/** Events a page starts with (the newest). */
export const INITIAL_EVENTS = 30;
const EVENT_RETRY_MS = 1000;
/** A page that stops reading is dropped (it resynchronises when it reconnects). */
const MAX_BUFFERED = 16 * 1024 * 1024;
const COUNTER_RETRY_MS = 10_000;

interface Client {
  ns: string;
  sink: StreamSink;
  put: Map<string, WObject>;
  del: Set<string>;
  timer?: NodeJS.Timeout;
  counters?: Map<string, WCounter>;
  closed: boolean;
}

const NAMESPACED: ResourceInfo[] = [R.pods, R.services, R.endpointslices, R.ingresses, R.deployments, R.replicasets];

export class StreamHub {
  private readonly clients = new Set<Client>();
  private readonly informers: Informer[];
  private readonly nsInf: Informer<Namespace>;
  private readonly nodeInf: Informer<Node>;
  private sampleTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private sampling = false;
  private lastSample?: { at: number; items: Awaited<ReturnType<CounterSource>> };
  private counterStatus: CounterStatus;
  private nextSampleAt = 0;
  private nodesJSON = '';
  private nsTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: HubOptions) {
    this.informers = NAMESPACED.map((r) => opts.informers.for(r));
    this.nsInf = opts.informers.for<Namespace>(R.namespaces);
    this.nodeInf = opts.informers.for<Node>(R.nodes);
    this.counterStatus = opts.counters ? { ok: false, reason: 'waiting for the first sample' } : { ok: false, reason: opts.countersOff ?? 'no counter source' };
    for (const inf of this.informers) {
      inf.on({
        add: (o) => this.changed(o),
        update: (_old, o) => this.changed(o),
        delete: (o) => this.deleted(o),
      });
    }
    const nsChanged = () => {
      clearTimeout(this.nsTimer);
      this.nsTimer = setTimeout(() => this.broadcast({ t: 'namespaces', names: this.namespaces() }), 50);
    };
    this.nsInf.on({ add: nsChanged, delete: nsChanged });
    const nodesChanged = () => {
      const nodes = this.nodes();
      const json = JSON.stringify(nodes);
      if (json === this.nodesJSON) return;
      this.nodesJSON = json;
      this.broadcast({ t: 'nodes', nodes });
    };
    this.nodeInf.on({ add: nodesChanged, update: nodesChanged, delete: nodesChanged });
    this.pingTimer = setInterval(() => this.broadcast({ t: 'ping' }), opts.pingMs ?? 10_000);
    this.pingTimer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pingTimer);
    clearInterval(this.sampleTimer);
    clearTimeout(this.nsTimer);
    for (const c of [...this.clients]) this.close(c, true);
  }

  private namespaces(): string[] {
    return this.nsInf
      .list()
      .map((n) => n.metadata.name!)
      .sort();
  }

  private nodes(): WNode[] {
    return this.nodeInf.list().map(slimNode);
  }

  /** Serves one page's stream: hello, the snapshot of `ns` ('' = all namespaces), then changes. */
  async open(sink: StreamSink, ns: string): Promise<void> {
    await Promise.all([...this.informers, this.nsInf, this.nodeInf].map((i) => i.synced()));
    await this.startEvents();
    if (this.stopped) return sink.end();
    const c: Client = { ns, sink, put: new Map(), del: new Set(), closed: false };
    this.clients.add(c);
    sink.on('close', () => this.close(c));
    // Snapshot and registration in one turn of the event loop: no change can fall between them.
    this.send(c, { t: 'hello', version: this.opts.version, clusterDomain: this.opts.clusterDomain, namespace: ns, readOnly: true });
    this.sendSnapshot(c);
    if (this.lastSample) this.sendCounters(c, this.lastSample.at, this.lastSample.items);
    else this.send(c, { t: 'counters', at: Date.now(), full: true, items: [], status: this.counterStatus });
    this.ensureSampling();
  }

  private close(c: Client, end = false): void {
    if (c.closed) return;
    c.closed = true;
    clearTimeout(c.timer);
    this.clients.delete(c);
    if (end) c.sink.end();
    if (this.clients.size === 0) {
      clearInterval(this.sampleTimer);
      this.sampleTimer = undefined;
      this.stopEvents();
    }
  }

  private send(c: Client, msg: ServerMessage): void {
    if (c.closed) return;
    c.sink.write(`data: ${JSON.stringify(msg)}\n\n`);
    if (c.sink.writableLength > MAX_BUFFERED) {
      this.opts.logger.warn({ buffered: c.sink.writableLength }, 'ui: a page stopped reading its stream; dropped');
      this.close(c, true);
    }
  }

  /**
   * The snapshot message, written object by object: one event on the wire, but never one string (or
   * one array) of a thousand Pods in memory — a page opening must not grow the server's heap.
   */
  private sendSnapshot(c: Client): void {
    const head = JSON.stringify({ t: 'snapshot', namespaces: this.namespaces(), nodes: this.nodes() });
    let chunk = `data: ${head.slice(0, -1)},"objects":[`;
    let first = true;
    for (const inf of this.informers) {
      for (const o of inf.list(c.ns || undefined)) {
        const w = slim(o);
        if (!w) continue;
        chunk += (first ? '' : ',') + JSON.stringify(w);
        first = false;
        if (chunk.length > 16 * 1024) {
          c.sink.write(chunk);
          chunk = '';
        }
      }
    }
    for (const [ns, ring] of this.rings) {
      if (c.ns && ns !== c.ns) continue;
      for (const e of ring) chunk += (first ? '' : ',') + JSON.stringify(e), (first = false);
    }
    c.sink.write(`${chunk}]}\n\n`);
  }

  private broadcast(msg: ServerMessage): void {
    for (const c of this.clients) this.send(c, msg);
  }

  private changed(o: KObject): void {
    let w: WObject | undefined;
    for (const c of this.clients) {
      if (c.ns && c.ns !== o.metadata.namespace) continue;
      w ??= slim(o);
      if (!w) return;
      const k = wkey(w);
      c.del.delete(k);
      c.put.set(k, w);
      this.schedule(c);
    }
  }

  private deleted(o: KObject): void {
    const k = `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    for (const c of this.clients) {
      if (c.ns && c.ns !== o.metadata.namespace) continue;
      c.put.delete(k);
      c.del.add(k);
      this.schedule(c);
    }
  }

  private schedule(c: Client): void {
    if (c.timer) return;
    c.timer = setTimeout(() => {
      c.timer = undefined;
      if (c.put.size === 0 && c.del.size === 0) return;
      const msg: ServerMessage = { t: 'changes', put: [...c.put.values()], del: [...c.del] };
      c.put.clear();
      c.del.clear();
      this.send(c, msg);
    }, this.opts.flushMs ?? 15);
  }

  /**
   * The newest Events of each namespace, for the ticker: one list and one cluster-wide watch while any
   * page is open (not one per page), kept as a ring of INITIAL_EVENTS per namespace.
   */
  private readonly rings = new Map<string, WEvent[]>();
  private eventsWatch?: Watch;
  private eventsStarting?: Promise<void>;
  private eventsRetry?: NodeJS.Timeout;

  private startEvents(): Promise<void> {
    this.eventsStarting ??= this.opts.client
      .list<KEvent>(R.events)
      .then((list) => {
        this.rings.clear();
        for (const e of list.items) this.remember(slimEvent(e));
        this.eventsWatch = this.opts.client.watch<KEvent>(R.events, { resourceVersion: list.metadata.resourceVersion }, {
          onEvent: (ev) => {
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
              const e = slimEvent(ev.object);
              if (this.remember(e)) this.fanOut(e.meta.namespace, (c) => (c.del.delete(wkey(e)), c.put.set(wkey(e), e)));
            } else if (ev.type === 'DELETED') {
              const e = slimEvent(ev.object);
              if (this.forget(e)) this.fanOut(e.meta.namespace, (c) => (c.put.delete(wkey(e)), c.del.add(wkey(e))));
            }
          },
          onClose: (err) => {
            if (!err || this.clients.size === 0) return;
            // Start over (a 410 after a long watch, a broken one): the next page, or a retry, re-lists.
            this.stopEvents();
            this.eventsRetry = setTimeout(() => void this.startEvents().catch(() => undefined), EVENT_RETRY_MS);
          },
        });
      })
      .catch((err) => {
        this.opts.logger.debug({ err: String(err) }, 'ui: listing events failed');
        this.eventsStarting = undefined;
      });
    return this.eventsStarting;
  }

  private stopEvents(): void {
    clearTimeout(this.eventsRetry);
    this.eventsWatch?.stop();
    this.eventsWatch = undefined;
    this.eventsStarting = undefined;
    this.rings.clear();
  }

  /** Keeps `e` if it is among its namespace's newest; true when the ring changed. */
  private remember(e: WEvent): boolean {
    const ring = this.rings.get(e.meta.namespace) ?? [];
    const i = ring.findIndex((x) => x.meta.name === e.meta.name);
    if (i >= 0) ring.splice(i, 1);
    else if (ring.length >= INITIAL_EVENTS && e.last <= ring[ring.length - 1].last) return false;
    let at = ring.findIndex((x) => x.last < e.last);
    if (at < 0) at = ring.length;
    ring.splice(at, 0, e);
    if (ring.length > INITIAL_EVENTS) ring.pop();
    this.rings.set(e.meta.namespace, ring);
    return true;
  }

  private forget(e: WEvent): boolean {
    const ring = this.rings.get(e.meta.namespace);
    const i = ring?.findIndex((x) => x.meta.name === e.meta.name) ?? -1;
    if (i < 0) return false;
    ring!.splice(i, 1);
    return true;
  }

  private fanOut(ns: string, change: (c: Client) => void): void {
    for (const c of this.clients) {
      if (c.ns && c.ns !== ns) continue;
      change(c);
      this.schedule(c);
    }
  }

  private ensureSampling(): void {
    if (this.sampleTimer || !this.opts.counters) return;
    this.sampleTimer = setInterval(() => void this.sample(), this.opts.sampleMs ?? 1000);
    void this.sample();
  }

  private async sample(): Promise<void> {
    const source = this.opts.counters;
    if (!source || this.sampling || this.clients.size === 0 || Date.now() < this.nextSampleAt) return;
    this.sampling = true;
    try {
      const items = await source();
      const at = Date.now();
      this.counterStatus = { ok: true };
      this.lastSample = { at, items };
      for (const c of this.clients) this.sendCounters(c, at, items);
    } catch (err) {
      const reason = `reading the counters failed: ${(err as Error).message ?? String(err)}`;
      const changed = reason !== this.counterStatus.reason;
      this.counterStatus = { ok: false, reason };
      this.lastSample = undefined;
      this.nextSampleAt = Date.now() + COUNTER_RETRY_MS;
      if (changed) {
        this.opts.logger.warn({ err: reason }, 'ui: per-endpoint counters unavailable; retrying every 10 s');
        for (const c of this.clients) {
          c.counters = undefined;
          this.send(c, { t: 'counters', at: Date.now(), full: true, items: [], status: this.counterStatus });
        }
      }
    } finally {
      this.sampling = false;
    }
  }

  private sendCounters(c: Client, at: number, items: Awaited<ReturnType<CounterSource>>): void {
    const u = counterUpdate(c.counters, items, c.ns);
    c.counters = u.next;
    // Sent every second even when nothing changed: it is the page's heartbeat and its clock for rates.
    this.send(c, { t: 'counters', at, full: u.full, items: u.items, status: this.counterStatus });
  }
}
