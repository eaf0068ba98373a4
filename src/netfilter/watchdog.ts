// Repairs between the proxier's periodic full resyncs. Two triggers, both ending in the proxier's own
// `fullResync()` (read the kernel, compare, repair — the only code that writes our rules and devices):
//  - netlink: the service device, its routes or the LoadBalancer pool route changed (deleted by hand,
//    set down, re-routed elsewhere): reacted to within milliseconds (src/host/netlink.ts);
//  - a digest of our rules in the kernel (our chains and the jumps into them, from `iptables-save`),
//    read every second or so while no sync of ours runs, and compared with the digest of what the
//    proxier wrote: a rule or a jump deleted by hand (or by a dockerd restart) makes them differ. A data
//    plane that cannot say what it wrote compares with the last digest read instead. The check backs
//    off when reading the rules gets expensive (a host with very many Services: reading them takes at
//    most a fifth of the time between two checks); the 30 s resync still covers everything.
// The decisions are pure; the class only schedules.

import crypto from 'node:crypto';
import client from 'prom-client';
import type { NetlinkEvent, NetlinkMonitor } from '../host/netlink.js';
import { cidrContains, normalizeCIDR } from '../util/ip.js';
import { JUMP_HOSTS } from './iptables.js';
import type { ChainNames, Table } from './names.js';
import { jumpRules, normalizeRule, type ChainRules } from './render.js';
import { ownedChains, parseSave, ruleTarget } from './save-parse.js';

/** What a fingerprint was taken against: the proxier's sync counter, and whether a sync was under way. */
export interface SyncState {
  started: number;
  running: boolean;
}

export interface Baseline {
  generation: number;
  fingerprint: string;
}

export type FingerprintVerdict = { action: 'baseline'; baseline: Baseline } | { action: 'keep' } | { action: 'repair' } | { action: 'unsure' };

/** One read: the digest of our rules in the kernel and, when the data plane can say, of what it wrote. */
export interface Fingerprint {
  kernel: string;
  expected?: string;
}

/**
 * Against what the proxier wrote: equal is fine; different is a repair, unless it is the difference a
 * repair already could not remove (`accepted`: the kernel prints something differently from how we
 * wrote it), which is then watched like a baseline. Pure.
 */
export function judgeAgainstExpected(before: SyncState, after: SyncState, fp: Required<Fingerprint>, accepted: string | undefined): 'keep' | 'repair' | 'unsure' {
  if (before.running || after.running || before.started !== after.started) return 'unsure';
  if (fp.kernel === fp.expected || fp.kernel === accepted) return 'keep';
  return 'repair';
}

/**
 * One observation: the sync state before and after reading the fingerprint. Only a fingerprint read
 * while no sync of ours started or ran is comparable; a different one then means someone else changed
 * our rules. Pure.
 */
export function judgeFingerprint(baseline: Baseline | undefined, before: SyncState, after: SyncState, fingerprint: string): FingerprintVerdict {
  if (before.running || after.running || before.started !== after.started) return { action: 'unsure' };
  if (!baseline || baseline.generation !== after.started) return { action: 'baseline', baseline: { generation: after.started, fingerprint } };
  return baseline.fingerprint === fingerprint ? { action: 'keep' } : { action: 'repair' };
}

function digest(tables: Partial<Record<Table, ChainRules>>, jumps: Record<Table, string[]>): string {
  const h = crypto.createHash('sha256');
  for (const t of ['nat', 'filter'] as Table[]) {
    h.update(`*${t}\n`);
    for (const [chain, rules] of [...(tables[t] ?? new Map<string, string[]>())].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      h.update(`:${chain}\n`);
      for (const r of rules) h.update(`${normalizeRule(r)}\n`);
    }
    for (const j of [...jumps[t]].map(normalizeRule).sort()) h.update(`${j}\n`);
  }
  return h.digest('hex');
}

/**
 * Our part of `iptables-save` dumps: our chains (every rule) and the rules in the host chains our jumps
 * live in that jump into ours; whether DOCKER-USER exists (where the forwarding jump goes). Pure.
 */
export function kernelDigest(dumps: string[], isOwned: (chain: string) => boolean): { digest: string; dockerUser: boolean } {
  const tables: Partial<Record<Table, ChainRules>> = {};
  const jumps: Record<Table, string[]> = { nat: [], filter: [] };
  let dockerUser = false;
  for (const dump of dumps) {
    for (const [name, saved] of Object.entries(parseSave(dump))) {
      if (!saved || (name !== 'nat' && name !== 'filter')) continue;
      const t = name as Table;
      tables[t] = ownedChains(saved, isOwned);
      for (const host of JUMP_HOSTS[t]) {
        const rules = saved.chains.get(host);
        if (rules === undefined) continue;
        if (host === 'DOCKER-USER') dockerUser = true;
        for (const r of rules) {
          const target = ruleTarget(r);
          if (target && isOwned(target)) jumps[t].push(r);
        }
      }
    }
  }
  return { digest: digest(tables, jumps), dockerUser };
}

/** The same digest of what the proxier wrote and the jumps it keeps in place. Pure. */
export function expectedDigest(written: Partial<Record<Table, ChainRules>>, cn: ChainNames, dockerUser: boolean): string {
  const jumps: Record<Table, string[]> = { nat: [], filter: [] };
  for (const j of jumpRules(cn, { dockerUser })) jumps[j.table].push(j.line);
  return digest(written, jumps);
}

/** Kept for a data plane that only has a read (no record of what it wrote): a hash of our part of the dumps. */
export function rulesFingerprint(dumps: string[], isOwned: (chain: string) => boolean): string {
  return kernelDigest(dumps, isOwned).digest;
}

/**
 * The iptables data plane's fingerprint: both tables read (in parallel) and digested, beside the digest
 * of what the proxier wrote (`written`: undefined before its first sync and after a failed one).
 */
export function iptablesFingerprint(save: (table: Table) => Promise<string>, cn: ChainNames, written?: () => Partial<Record<Table, ChainRules>> | undefined): () => Promise<Fingerprint> {
  return async () => {
    const dumps = await Promise.all((['nat', 'filter'] as Table[]).map((t) => save(t)));
    const k = kernelDigest(dumps, cn.isOwned);
    const w = written?.();
    return { kernel: k.digest, ...(w && w.nat && w.filter ? { expected: expectedDigest(w, cn, k.dockerUser) } : {}) };
  };
}

/** Does this link or route change touch host plumbing the proxier owns? Pure. */
export function touchesProxyPlumbing(ev: NetlinkEvent, device: string, routes: readonly string[]): boolean {
  if (ev.kind === 'link') return ev.name === device && (ev.deleted || !ev.up);
  if (ev.family !== 4) return false;
  if (ev.dev === device) return ev.deleted;
  // Our destinations routed elsewhere (or removed from elsewhere): compare the whole route table.
  const dst = normalizeCIDR(ev.dst);
  return routes.some((r) => r === dst || (cidrContains(r, dst.split('/')[0]) && Number(dst.split('/')[1]) >= Number(r.split('/')[1])));
}

export interface WatchdogTarget {
  fullResync(): Promise<unknown>;
  readonly syncState: SyncState;
}

export interface WatchdogOptions {
  proxier: WatchdogTarget;
  /** The service device and the destinations routed to it (service CIDR, LB pool). */
  device: string;
  routes: string[];
  /**
   * A fingerprint of everything of ours in the kernel's rules (iptables: `iptablesFingerprint`; an
   * nftables data plane: a hash of its table's listing); absent: no fingerprint check (netlink only).
   */
  fingerprint?: () => Promise<Fingerprint>;
  netlink?: NetlinkMonitor;
  /** Shortest time between two fingerprint checks (default 1 s). */
  minIntervalMs?: number;
  /** When the first check runs after start (default 5 s). */
  firstCheckMs?: number;
  /** A check (mostly waiting for iptables-save) may take at most this share of the time between checks (default 20 %). */
  maxShare?: number;
  logger?: { warn(msg: string): void; debug?(msg: string): void };
}

const DEFAULT_MIN_INTERVAL_MS = 1000;
const FIRST_CHECK_MS = 5000;
const DEFAULT_MAX_SHARE = 0.2;
const MAX_INTERVAL_MS = 30_000;
const NETLINK_DEBOUNCE_MS = 20;
/** How often the proxier's sync counter is looked at between checks. */
const SYNC_POLL_MS = 50;

function repairsCounter(): client.Counter<'trigger'> {
  const name = 'kubelite_proxy_repairs_total';
  return (
    (client.register.getSingleMetric(name) as client.Counter<'trigger'> | undefined) ??
    new client.Counter({ name, help: 'Full resyncs started between the periodic ones because our rules, device or routes changed under us', labelNames: ['trigger'] as const })
  );
}

export class ProxyWatchdog {
  private baseline?: Baseline;
  private timer?: NodeJS.Timeout;
  private netlinkTimer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  private stopped = true;
  private checking?: Promise<void>;
  private readonly routes: string[];
  private readonly repairs = repairsCounter();
  private readonly costs: number[] = [];
  /** The proxier's sync counter at the last check. */
  private lastGeneration = -1;
  /** A kernel digest that differs from what we wrote even right after a repair (watched like a baseline). */
  private accepted?: string;
  /** Fingerprint checks run so far (tests). */
  checks = 0;

  constructor(private readonly opts: WatchdogOptions) {
    this.routes = opts.routes.map(normalizeCIDR);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.opts.netlink) {
      this.unsubscribe = this.opts.netlink.subscribe((ev) => {
        if (touchesProxyPlumbing(ev, this.opts.device, this.routes)) this.repairSoon();
      });
    }
    // The first read waits out the server's start (the proxier has just compared everything anyway),
    // so it does not compete with the first Pods for the CPU.
    this.lastGeneration = this.opts.proxier.syncState.started;
    if (this.opts.fingerprint) this.schedule(this.opts.firstCheckMs ?? FIRST_CHECK_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.netlinkTimer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.checking;
  }

  /** Netlink events come in bursts (a device and its routes): one resync for the burst. */
  private repairSoon(): void {
    if (this.stopped || this.netlinkTimer) return;
    this.netlinkTimer = setTimeout(() => {
      this.netlinkTimer = undefined;
      if (this.stopped) return;
      this.repairs.inc({ trigger: 'netlink' });
      this.opts.logger?.warn('proxy: the service device or its routes changed under us: repairing now');
      void this.opts.proxier.fullResync();
    }, NETLINK_DEBOUNCE_MS);
    this.netlinkTimer.unref();
  }

  /**
   * Checks at the adaptive interval, and also right after each sync of ours: the new baseline is then
   * read before anyone else can have changed what we just wrote (a deletion made between our sync and
   * a late baseline would otherwise become part of it). Looking at the proxier's sync counter costs nothing.
   */
  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const due = Date.now() + ms;
    const tick = () => {
      if (this.stopped) return;
      const st = this.opts.proxier.syncState;
      const oursSinceLastCheck = st.started !== this.lastGeneration && !st.running;
      if (Date.now() >= due || oursSinceLastCheck) {
        this.checking = this.check().finally(() => (this.checking = undefined));
        return;
      }
      this.timer = setTimeout(tick, Math.min(SYNC_POLL_MS, Math.max(0, due - Date.now())));
      this.timer.unref();
    };
    this.timer = setTimeout(tick, Math.min(SYNC_POLL_MS, ms));
    this.timer.unref();
  }

  private async check(): Promise<void> {
    const fingerprint = this.opts.fingerprint!;
    const t0 = performance.now();
    try {
      const before = { ...this.opts.proxier.syncState };
      const fp = await fingerprint();
      const after = { ...this.opts.proxier.syncState };
      this.lastGeneration = after.started;
      this.checks++;
      let action: FingerprintVerdict['action'];
      if (fp.expected !== undefined) {
        action = judgeAgainstExpected(before, after, { kernel: fp.kernel, expected: fp.expected }, this.accepted);
        if (action === 'keep' && fp.kernel === fp.expected) this.accepted = undefined;
      } else {
        const verdict = judgeFingerprint(this.baseline, before, after, fp.kernel);
        action = verdict.action;
        if (verdict.action === 'baseline') this.baseline = verdict.baseline;
      }
      if (action !== 'keep') this.opts.logger?.debug?.(`proxy watchdog: ${action} (syncs ${before.started}->${after.started}, read in ${Math.round(performance.now() - t0)} ms)`);
      if (action === 'repair') {
        this.baseline = undefined;
        this.repairs.inc({ trigger: 'fingerprint' });
        this.opts.logger?.warn('proxy: our rules changed under us (a rule or a jump deleted?): repairing now');
        await this.opts.proxier.fullResync();
        // Still different right after a repair: not something a resync can change (the kernel prints it
        // its own way). Watch that state for changes instead of repairing it every second.
        const st = { ...this.opts.proxier.syncState };
        const again = await fingerprint();
        if (again.expected !== undefined && again.kernel !== again.expected && !st.running && st.started === this.opts.proxier.syncState.started) {
          this.accepted = again.kernel;
          this.opts.logger?.debug?.('proxy watchdog: our rules read back differently from how they were written, even after a repair: watching them for changes');
        }
      }
    } catch (err) {
      // A failed read (iptables busy, a lock) is not a verdict; the next check or the resync decides.
      this.opts.logger?.debug?.(`proxy watchdog: reading the rules failed: ${(err as Error).message}`);
      this.baseline = undefined;
    }
    // The wait follows what a read costs here (the median of the last few: one slow read on a busy host
    // must not stretch it): about a second on a host with a normal ruleset, longer with a huge one.
    this.costs.push(performance.now() - t0);
    if (this.costs.length > 5) this.costs.shift();
    const cost = [...this.costs].sort((a, b) => a - b)[Math.floor(this.costs.length / 2)];
    const min = this.opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
    this.schedule(Math.min(MAX_INTERVAL_MS, Math.max(min, cost / (this.opts.maxShare ?? DEFAULT_MAX_SHARE))));
  }
}
