// The proxier: keeps the host's Service rules equal to the Services and Endpoints it is given. Every
// change schedules a sync at once (coalesced, never lost); a sync renders everything (pure), diffs
// chain by chain against what it last wrote and sends only the difference to iptables-restore. A
// periodic full resync compares with what the kernel really holds and repairs it.

import cron, { type ScheduledTask } from 'node-cron';
import type { Endpoints, EndpointSlice, Service } from '../api/types.js';
import type { HostNames } from '../config.js';
import { conntrackDelete, planConntrackCleanup } from './conntrack.js';
import { applyDevice, planDevice, readDevice, type DeviceAction, type DeviceState } from './device.js';
import { diffChains } from './diff.js';
import { ensureJumps, iptablesRestore, iptablesSave, jumpHostsFrom, type JumpHosts, type JumpPlan } from './iptables.js';
import { proxyMetrics, type ProxyMetrics } from './metrics.js';
import { ModelCache } from './model-cache.js';
import type { ModelProblem, ProxyService } from './model.js';
import { chainNames, type ChainNames, type Table } from './names.js';
import { DEFAULT_BATCH_LINES, newRenderCache, renderRules, TABLES, type ChainRules, type RenderConfig } from './render.js';
import { ownedChains, parseSave, type SavedTable } from './save-parse.js';
import { cidrContains, normalizeCIDR } from '../util/ip.js';

export { cleanupNetfilter } from './cleanup.js';

export interface ProxierLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** The host side effects, replaceable so the scheduling logic can be tested without root. */
export interface NetfilterHost {
  restore(text: string): Promise<void>;
  save(table: Table): Promise<string>;
  /** `known`: the host chains as a full resync just read them (else they are listed). */
  ensureJumps(cn: ChainNames, known?: JumpHosts): Promise<JumpPlan>;
  conntrackDelete(args: string[]): Promise<number>;
  readDevice(dev: string): Promise<DeviceState>;
  applyDevice(dev: string, actions: DeviceAction[]): Promise<void>;
}

export const hostTools: NetfilterHost = {
  restore: iptablesRestore,
  save: iptablesSave,
  ensureJumps,
  conntrackDelete,
  readDevice,
  applyDevice,
};

export interface ProxierOptions {
  names: HostNames;
  podCIDR: string;
  serviceCIDR: string;
  /** The host's addresses: LoadBalancer Services get them when there is no lbPool (k3s ServiceLB style). */
  nodeIPs: string[];
  /** Pool addresses found in LoadBalancer status go on the service device as /32s. */
  lbPool?: string;
  /** Endpoints on other nodes are not local (externalTrafficPolicy: Local); default: all local. */
  nodeName?: string;
  masqueradeMark?: string;
  /** Largest iptables-restore input of one sync before it is sliced (default 10,000 lines, see toRestoreBatches). */
  restoreBatchLines?: number;
  /** Minimum time between the starts of two syncs. Default 0: sync at once. */
  minSyncIntervalMs?: number;
  /** node-cron expression of the periodic full resync; default every 30 s. */
  resyncSchedule?: string;
  logger?: ProxierLogger;
  host?: NetfilterHost;
}

export interface SyncResult {
  ok: boolean;
  full: boolean;
  error?: Error;
  /** Chains written + deleted, per table. */
  chainsWritten: number;
  chainsDeleted: number;
  rulesWritten: number;
  durationMs: number;
}

const DEFAULT_RESYNC = '*/30 * * * * *';
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

const silent: ProxierLogger = { info() {}, warn() {}, error() {} };

/**
 * The order to write the tables in. Each restore is atomic per table only, so in between the kernel
 * holds the new nat rules with the old filter rules (or the reverse). A Service losing its last
 * endpoint must get its filter REJECT before its nat DNAT goes, and one gaining its first endpoint its
 * DNAT before the REJECT goes; otherwise a connection in the gap is neither NATed nor rejected and its
 * SYN dies on the service device (a 1 s retransmit for the client). When both happen in one sync the
 * gaining Services win: they are the ones with traffic waiting.
 */
export function tableOrder(prev: ProxyService[] | undefined, next: ProxyService[]): readonly Table[] {
  if (!prev) return TABLES;
  const ready = (s: ProxyService) => s.endpoints.some((e) => e.ready);
  const before = new Map(prev.map((s) => [`${s.key}/${s.protocol}`, ready(s)]));
  let losing = false;
  for (const s of next) {
    const was = before.get(`${s.key}/${s.protocol}`);
    if (was === undefined) continue;
    const now = ready(s);
    if (!was && now) return ['nat', 'filter'];
    if (was && !now) losing = true;
  }
  return losing ? ['filter', 'nat'] : TABLES;
}

export class Proxier {
  private readonly opts: ProxierOptions;
  private readonly cn: ChainNames;
  private readonly renderCfg: RenderConfig;
  private readonly host: NetfilterHost;
  private readonly log: ProxierLogger;
  private readonly metrics: ProxyMetrics = proxyMetrics();
  private readonly minInterval: number;
  private readonly resyncSchedule: string;
  private readonly routes: string[];
  private readonly batchLines: number;

  private readonly inputs: ModelCache;

  private readonly cache = newRenderCache();
  /** What the kernel holds of ours, per table, as far as we know; a missing table is written whole. */
  private written: Partial<Record<Table, ChainRules>> = {};
  private prevModel?: ProxyService[];
  private appliedAddresses?: string;
  private jumpsInPlace = false;
  private gauges = new Map<string, number>();
  private knownProblems = new Set<string>();

  private started = false;
  private dirty = false;
  private fullPending = false;
  private loop?: Promise<void>;
  /** Cancels the scheduled start of the sync loop (an immediate, a min-interval wait or a retry back-off). */
  private timer?: () => void;
  private retryMs = 0;
  private lastStart = 0;
  private syncsStarted = 0;
  private waiters: { after: number; resolve: (r: SyncResult) => void }[] = [];
  private cronTask?: ScheduledTask;

  /** The last sync's error, cleared by a successful sync. */
  lastError?: Error;
  /** Objects skipped by the last sync (bad IPs, ports out of range...). */
  problems: ModelProblem[] = [];

  constructor(opts: ProxierOptions) {
    this.cn = chainNames(opts.names);
    normalizeCIDR(opts.podCIDR);
    normalizeCIDR(opts.serviceCIDR);
    if (opts.lbPool) normalizeCIDR(opts.lbPool);
    this.opts = opts;
    this.renderCfg = {
      names: opts.names,
      podCIDR: opts.podCIDR,
      serviceCIDR: opts.serviceCIDR,
      nodeIPs: opts.nodeIPs,
      masqueradeMark: opts.masqueradeMark,
    };
    // Fail at construction, not in the middle of a sync.
    renderRules([], this.renderCfg);
    this.host = opts.host ?? hostTools;
    this.log = opts.logger ?? silent;
    this.minInterval = opts.minSyncIntervalMs ?? 0;
    this.batchLines = opts.restoreBatchLines ?? DEFAULT_BATCH_LINES;
    this.resyncSchedule = opts.resyncSchedule ?? DEFAULT_RESYNC;
    if (!cron.validate(this.resyncSchedule)) throw new Error(`resync schedule ${JSON.stringify(this.resyncSchedule)} is not a valid cron expression`);
    this.routes = [normalizeCIDR(opts.serviceCIDR), ...(opts.lbPool ? [normalizeCIDR(opts.lbPool)] : [])];
    this.inputs = new ModelCache({
      serviceCIDR: opts.serviceCIDR,
      nodeName: opts.nodeName,
      lbDefaultIPs: opts.lbPool ? undefined : opts.nodeIPs,
    });
  }

  get chains(): ChainNames {
    return this.cn;
  }

  /** What the kernel holds of our chains as far as we know (what the last syncs wrote); undefined until a sync succeeded. */
  get writtenRules(): Partial<Record<Table, ChainRules>> | undefined {
    return this.jumpsInPlace ? this.written : undefined;
  }

  /** Syncs started so far, and whether one runs or is about to: lets a watchdog tell our own writes from someone else's. */
  get syncState(): { started: number; running: boolean } {
    return { started: this.syncsStarted, running: this.loop !== undefined || this.timer !== undefined };
  }

  /** Creates the device and routes, writes the rules (comparing with what a previous run left) and starts the periodic resync. */
  async start(): Promise<SyncResult> {
    if (this.started) return this.waitForSync();
    this.started = true;
    this.cronTask = cron.schedule(this.resyncSchedule, () => void this.fullResync(), { noOverlap: true, name: `kubelite-proxy-${this.opts.names.instanceValue}` });
    this.fullPending = true;
    return this.waitForSync();
  }

  /** Stops syncing (the rules stay in force; `cleanupNetfilter` removes them). */
  async stop(): Promise<void> {
    this.started = false;
    if (this.cronTask) await this.cronTask.destroy();
    this.cronTask = undefined;
    this.timer?.();
    this.timer = undefined;
    await this.loop;
    const stopped: SyncResult = { ok: false, full: false, error: new Error('proxier stopped'), chainsWritten: 0, chainsDeleted: 0, rulesWritten: 0, durationMs: 0 };
    for (const w of this.waiters.splice(0)) w.resolve(stopped);
  }

  // ---------- inputs ----------

  setServices(services: Service[]): void {
    this.inputs.setServices(services);
    this.requestSync();
  }

  /** Replaces all endpoint sources; Endpoints and EndpointSlices may be mixed (a Service with slices uses them). */
  setEndpoints(items: (Endpoints | EndpointSlice)[]): void {
    this.inputs.setEndpoints(items);
    this.requestSync();
  }

  upsertService(svc: Service): void {
    this.inputs.upsertService(svc);
    this.requestSync();
  }

  /** `key` is `namespace/name`. */
  deleteService(key: string): void {
    if (this.inputs.deleteService(key)) this.requestSync();
  }

  upsertEndpoints(e: Endpoints | EndpointSlice): void {
    this.inputs.upsertEndpoints(e);
    this.requestSync();
  }

  /** `key` is `namespace/name` of the Endpoints (or of the EndpointSlice, with kind 'EndpointSlice'). */
  deleteEndpoints(key: string, kind: 'Endpoints' | 'EndpointSlice' = 'Endpoints'): void {
    if (this.inputs.deleteEndpoints(key, kind)) this.requestSync();
  }

  // ---------- scheduling ----------

  /**
   * Resolves after the next sync that starts after this call has completed (requesting one if none is
   * due). Never rejects: a failed sync resolves with ok=false and its error.
   */
  waitForSync(): Promise<SyncResult> {
    const p = new Promise<SyncResult>((resolve) => this.waiters.push({ after: this.syncsStarted, resolve }));
    this.requestSync();
    return p;
  }

  /** Compares the kernel's state (our chains, jumps, device, routes) with the desired one and repairs it. */
  fullResync(): Promise<SyncResult> {
    this.fullPending = true;
    return this.waitForSync();
  }

  private requestSync(): void {
    this.dirty = true;
    if (!this.started || this.loop || this.timer) return;
    const wait = Math.max(0, this.lastStart + this.minInterval - Date.now());
    // setImmediate even at 0 ms: changes made in the same tick (services, then endpoints) share one sync.
    const run = () => {
      this.timer = undefined;
      this.runLoop();
    };
    if (wait > 0) {
      const h = setTimeout(run, wait);
      this.timer = () => clearTimeout(h);
    } else {
      const h = setImmediate(run);
      this.timer = () => clearImmediate(h);
    }
  }

  private runLoop(): void {
    if (this.loop || !this.started) return;
    this.loop = (async () => {
      try {
        while (this.dirty && this.started) {
          const wait = this.lastStart + this.minInterval - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          this.dirty = false;
          const full = this.fullPending;
          this.fullPending = false;
          const id = ++this.syncsStarted;
          this.lastStart = Date.now();
          const result = await this.syncOnce(full);
          const done = this.waiters.filter((w) => w.after < id);
          this.waiters = this.waiters.filter((w) => w.after >= id);
          for (const w of done) w.resolve(result);
          if (!result.ok) {
            // The kernel kept its previous rules; retry with a read-back, backing off while it keeps failing.
            this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs ? this.retryMs * 2 : RETRY_MIN_MS);
            this.fullPending = true;
            if (this.started) {
              const h = setTimeout(() => {
                this.timer = undefined;
                this.requestSync();
              }, this.retryMs);
              this.timer = () => clearTimeout(h);
            }
            break;
          }
          this.retryMs = 0;
        }
      } finally {
        this.loop = undefined;
      }
      // A change that arrived while the retry timer is not set (the loop ended normally) still gets its sync.
      if (this.dirty && this.started && !this.timer) this.requestSync();
    })();
  }

  // ---------- one sync ----------

  private async syncOnce(full: boolean): Promise<SyncResult> {
    const t0 = performance.now();
    const end = this.metrics.syncDuration.startTimer();
    const result: SyncResult = { ok: true, full, chainsWritten: 0, chainsDeleted: 0, rulesWritten: 0, durationMs: 0 };
    let knownJumps: JumpHosts | undefined;
    try {
      if (full) {
        // Compare with the kernel, not with our memory: this is what repairs a hand-deleted rule. Read
        // before taking the model: reading a big ruleset takes a while, and a change that arrives
        // meanwhile is then part of this sync instead of waiting for the next one. Only this loop
        // writes our chains, so what was read is still what the kernel holds when we write.
        const saved: Partial<Record<string, SavedTable>> = {};
        // Both tables at once: each dump can take tens of milliseconds when the host holds big rulesets.
        const dumps = await Promise.all(TABLES.map((t) => this.host.save(t)));
        TABLES.forEach((t, i) => {
          saved[t] = parseSave(dumps[i])[t];
          this.written[t] = ownedChains(saved[t], this.cn.isOwned);
        });
        // Our restores never touch the built-in chains, so the jumps can be checked against this read.
        knownJumps = jumpHostsFrom(saved);
      }
      const { model, problems } = this.inputs.current();
      this.reportProblems(problems);
      const rendered = renderRules(model, this.renderCfg, this.cache);
      await this.syncDevice(model, full);
      const diff = diffChains(this.written, rendered.tables, { normalize: full });
      let firstError: Error | undefined;
      for (const t of tableOrder(this.prevModel, model)) {
        if (diff.write[t].length === 0 && diff.del[t].length === 0) {
          // Same content: keep the new arrays so the next diff can compare by reference.
          this.written[t] = rendered.tables[t];
          continue;
        }
        try {
          // One input (atomic) unless the change is large; see toRestoreBatches for why slices stay consistent.
          for (const text of rendered.toRestoreBatches(t, diff.write[t], diff.del[t], this.batchLines)) await this.host.restore(text);
          this.written[t] = rendered.tables[t];
          result.chainsWritten += diff.write[t].length;
          result.chainsDeleted += diff.del[t].length;
          for (const c of diff.write[t]) result.rulesWritten += rendered.tables[t].get(c)!.length;
        } catch (e) {
          // This table's restore was atomic: the kernel still holds what `written` says.
          firstError ??= e as Error;
        }
      }
      if (firstError) throw firstError;
      if (full || !this.jumpsInPlace) {
        const plan = await this.host.ensureJumps(this.cn, knownJumps);
        if (this.jumpsInPlace && plan.insert.length + plan.remove.length > 0) {
          this.log.warn(`proxy: repaired ${plan.insert.length} missing and ${plan.remove.length} extra jump rule(s)`);
        }
        this.jumpsInPlace = true;
      }
      await this.cleanConntrack(model);
      this.updateEndpointGauges(model);
      this.metrics.rulesWritten.inc(result.rulesWritten);
      this.metrics.lastSync.set(Date.now() / 1000);
      if (full && (result.chainsWritten || result.chainsDeleted) && this.syncsStarted > 1) {
        this.log.warn(`proxy: full resync repaired ${result.chainsWritten} chain(s) and deleted ${result.chainsDeleted} stale chain(s)`);
      }
      this.lastError = undefined;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      result.ok = false;
      result.error = err;
      this.lastError = err;
      // After a failure we no longer trust our picture of the kernel; the retry reads it back.
      this.jumpsInPlace = false;
      this.metrics.syncErrors.inc();
      this.log.error(`proxy: sync failed, previous rules stay in force: ${err.message}`);
    } finally {
      end();
      result.durationMs = performance.now() - t0;
    }
    return result;
  }

  /** Device, routes and LB pool addresses: checked against the kernel on full syncs, else only when the pool addresses changed. */
  private async syncDevice(model: ProxyService[], full: boolean): Promise<void> {
    const pool = this.opts.lbPool;
    const addresses = pool ? [...new Set(model.flatMap((s) => s.loadBalancerIPs.filter((ip) => cidrContains(pool, ip))))].sort() : [];
    const id = addresses.join(',');
    if (!full && id === this.appliedAddresses) return;
    const dev = this.opts.names.serviceDevice;
    const actions = planDevice(await this.host.readDevice(dev), { routes: this.routes, addresses });
    if (actions.length) await this.host.applyDevice(dev, actions);
    if (full && this.appliedAddresses !== undefined && actions.some((a) => a.op !== 'addr-add' && a.op !== 'addr-del')) {
      this.log.warn(`proxy: repaired the service device: ${actions.map((a) => a.op).join(', ')}`);
    }
    this.appliedAddresses = id;
  }

  private async cleanConntrack(model: ProxyService[]): Promise<void> {
    const plan = planConntrackCleanup(this.prevModel, model);
    this.prevModel = model;
    for (const args of plan) {
      try {
        await this.host.conntrackDelete(args);
      } catch (e) {
        // A stale flow is a nuisance, not a reason to fail the sync.
        this.log.warn(`proxy: ${(e as Error).message}`);
      }
    }
  }

  /** Only values that changed are written: 10,000 label lookups per sync would cost more than the sync. */
  private updateEndpointGauges(model: ProxyService[]): void {
    const next = new Map<string, number>();
    for (const s of model) {
      let n = 0;
      for (const e of s.endpoints) if (e.ready) n++;
      next.set(s.key, n);
      if (this.gauges.get(s.key) !== n) this.metrics.endpoints.set({ service: s.key }, n);
    }
    for (const k of this.gauges.keys()) if (!next.has(k)) this.metrics.endpoints.remove({ service: k });
    this.gauges = next;
  }

  private reportProblems(problems: ModelProblem[]): void {
    if (problems === this.problems) return;
    this.problems = problems;
    const now = new Set(problems.map((p) => `${p.object}: ${p.message}`));
    for (const p of now) if (!this.knownProblems.has(p)) this.log.warn(`proxy: ${p}`);
    this.knownProblems = now;
  }
}
