// The proxier: keeps the host's Service rules equal to the Services and Endpoints it is given. Every
// change schedules a sync at once (coalesced, never lost); a sync builds the proxy model (only the
// Services that changed) and hands it to the data plane of the chosen mode, iptables or nftables, which
// writes only the difference. A periodic full resync compares with what the kernel really holds and
// repairs it. The device, routes and UDP conntrack cleanup are the same in both modes.

import cron, { type ScheduledTask } from 'node-cron';
import type { Endpoints, EndpointSlice, Service } from '../api/types.js';
import type { HostNames } from '../config.js';
import { conntrackDelete, planConntrackCleanup } from './conntrack.js';
import { applyDevice, planDevice, readDevice } from './device.js';
import { ensureJumps, iptablesRestore, iptablesSave } from './iptables.js';
import { IptablesPlane } from './iptables-plane.js';
import { proxyMetrics, type ProxyMetrics } from './metrics.js';
import { ModelCache, type ModelDelta } from './model-cache.js';
import type { ModelProblem, ProxyService } from './model.js';
import { chainNames, type ChainNames, type Table } from './names.js';
import { nftApply, nftDeleteTable, nftListChains, nftListTable } from './nft.js';
import { NftPlane } from './nft-plane.js';
import { renderNft } from './nft-render.js';
import type { DataPlane, NetfilterHost, ProxierLogger, ProxyMode, SyncResult } from './plane.js';
import { DEFAULT_BATCH_LINES, renderRules, type ChainRules, type RenderConfig } from './render.js';
import { cidrContains, normalizeCIDR } from '../util/ip.js';

export type { DataPlane, NetfilterHost, ProxierLogger, ProxyMode, SyncResult } from './plane.js';
export { tableOrder } from './iptables-plane.js';
export { cleanupNetfilter } from './cleanup.js';

export const hostTools: NetfilterHost = {
  restore: iptablesRestore,
  save: iptablesSave,
  ensureJumps,
  conntrackDelete,
  readDevice,
  applyDevice,
  nftApply,
  nftListTable,
  nftListChains,
  nftDeleteTable,
};

export interface ProxierOptions {
  names: HostNames;
  podCIDR: string;
  /** This node's share of podCIDR (nftables: host connections to Pods outside it are masqueraded). */
  nodePodCIDR?: string;
  serviceCIDR: string;
  /** The host's addresses: LoadBalancer Services get them when there is no lbPool (k3s ServiceLB style). */
  nodeIPs: string[];
  /** Pool addresses found in LoadBalancer status go on the service device as /32s. */
  lbPool?: string;
  /** Endpoints on other nodes are not local (externalTrafficPolicy: Local); default: all local. */
  nodeName?: string;
  masqueradeMark?: string;
  /** The data plane; default iptables here (the server picks nftables where it works, see mode.ts). */
  mode?: ProxyMode;
  /** nftables details (tests): deferred chain deletes as on kernels before 6.2, and the clock. */
  nft?: { deferChainDeletes?: boolean; now?: () => number };
  /** Largest iptables-restore input of one sync before it is sliced (default 10,000 lines, see toRestoreBatches). */
  restoreBatchLines?: number;
  /** Minimum time between the starts of two syncs. Default 0: sync at once. */
  minSyncIntervalMs?: number;
  /** node-cron expression of the periodic full resync; default every 30 s. */
  resyncSchedule?: string;
  logger?: ProxierLogger;
  host?: NetfilterHost;
}

const DEFAULT_RESYNC = '*/30 * * * * *';
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

const silent: ProxierLogger = { info() {}, warn() {}, error() {} };

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

  private readonly inputs: ModelCache;

  private readonly plane: DataPlane;
  private prevModel?: ProxyService[];
  private lastSyncFailed = false;
  private appliedAddresses?: string;
  private gauges = new Map<string, number>();
  private gaugesSet = false;
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
    const mode = opts.mode ?? 'iptables';
    if (mode === 'nftables') {
      const render = { names: opts.names, podCIDR: opts.podCIDR, nodePodCIDR: opts.nodePodCIDR, serviceCIDR: opts.serviceCIDR, masqueradeMark: opts.masqueradeMark };
      renderNft([], render);
      this.plane = new NftPlane({ host: this.host, render, chains: this.cn, log: this.log, metrics: this.metrics, ...opts.nft });
    } else if (mode === 'iptables') {
      this.plane = new IptablesPlane(this.host, this.cn, this.renderCfg, opts.restoreBatchLines ?? DEFAULT_BATCH_LINES, this.log);
    } else {
      throw new Error(`proxy mode ${JSON.stringify(mode)}: expected nftables or iptables`);
    }
    // Counters show 0 from the start (a labelled series only exists once touched).
    this.metrics.syncErrors.inc({ mode: this.plane.mode }, 0);
    this.metrics.rulesWritten.inc({ mode: this.plane.mode }, 0);
    this.minInterval = opts.minSyncIntervalMs ?? 0;
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

  get mode(): ProxyMode {
    return this.plane.mode;
  }

  /** iptables plane: what the kernel holds of our chains as far as we know (what the last syncs wrote); undefined until a sync succeeded. */
  get writtenRules(): Partial<Record<Table, ChainRules>> | undefined {
    return this.plane instanceof IptablesPlane ? this.plane.writtenRules : undefined;
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
    const mode = { mode: this.plane.mode };
    const end = this.metrics.syncDuration.startTimer(mode);
    const result: SyncResult = { ok: true, full, chainsWritten: 0, chainsDeleted: 0, rulesWritten: 0, durationMs: 0 };
    try {
      // Read before taking the model: reading a big ruleset takes a while, and a change that arrives
      // meanwhile is then part of this sync instead of waiting for the next one.
      if (full) await this.plane.readKernel();
      const { model, problems, delta } = this.inputs.current();
      this.reportProblems(problems);
      await this.syncDevice(model, full);
      // After a failed sync the delta since the last success is lost: the plane compares whole states then.
      const repaired = await this.plane.write(model, this.prevModel, full, result, this.lastSyncFailed ? undefined : delta);
      await this.cleanConntrack(model, delta);
      this.updateEndpointGauges(model, delta);
      this.lastSyncFailed = false;
      this.metrics.rulesWritten.inc(mode, result.rulesWritten);
      if (result.elementsWritten) this.metrics.elementsWritten.inc(mode, result.elementsWritten);
      this.metrics.lastSync.set(mode, Date.now() / 1000);
      if (full && repaired && this.syncsStarted > 1) this.log.warn(`proxy: full resync ${repaired}`);
      this.lastError = undefined;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      result.ok = false;
      result.error = err;
      this.lastError = err;
      // After a failure we no longer trust our picture of the kernel; the retry reads it back.
      this.plane.reset();
      this.lastSyncFailed = true;
      this.metrics.syncErrors.inc(mode);
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

  /** `delta` (the changed service ports) when the previous sync succeeded: unchanged ones never need a cleanup. */
  private async cleanConntrack(model: ProxyService[], delta: ModelDelta): Promise<void> {
    const plan = this.lastSyncFailed || !this.prevModel ? planConntrackCleanup(this.prevModel, model) : planConntrackCleanup(delta.removed, delta.added);
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
  private updateEndpointGauges(model: ProxyService[], delta: ModelDelta): void {
    const ready = (s: ProxyService) => {
      let n = 0;
      for (const e of s.endpoints) if (e.ready) n++;
      return n;
    };
    const label = (service: string) => ({ service, mode: this.plane.mode });
    if (!this.lastSyncFailed && this.gaugesSet) {
      const added = new Set(delta.added.map((s) => s.key));
      for (const s of delta.removed) if (!added.has(s.key) && this.gauges.delete(s.key)) this.metrics.endpoints.remove(label(s.key));
      for (const s of delta.added) {
        const n = ready(s);
        if (this.gauges.get(s.key) !== n) this.metrics.endpoints.set(label(s.key), n);
        this.gauges.set(s.key, n);
      }
      return;
    }
    const next = new Map<string, number>();
    for (const s of model) {
      const n = ready(s);
      next.set(s.key, n);
      if (this.gauges.get(s.key) !== n) this.metrics.endpoints.set(label(s.key), n);
    }
    for (const k of this.gauges.keys()) if (!next.has(k)) this.metrics.endpoints.remove(label(k));
    this.gauges = next;
    this.gaugesSet = true;
  }

  private reportProblems(problems: ModelProblem[]): void {
    if (problems === this.problems) return;
    this.problems = problems;
    const now = new Set(problems.map((p) => `${p.object}: ${p.message}`));
    for (const p of now) if (!this.knownProblems.has(p)) this.log.warn(`proxy: ${p}`);
    this.knownProblems = now;
  }
}
