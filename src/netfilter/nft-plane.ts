// The nftables data plane. Every sync renders the table's contents (pure, memoised per Service) and
// sends the difference from what it last committed as one `nft -f` transaction; the committed state is
// kept in memory, so the hot path never lists the kernel. Reading the kernel happens only:
//  - on the first sync, to adopt what a previous run left (counters and affinity entries survive a
//    restart) or to load the table whole when there is none;
//  - on a periodic full sync: a cheap fingerprint (`nft list chains`, every chain name and hook, no
//    rules) every time, and the whole table at a rate bounded by its cost (at most ~1% of a core), then
//    whatever differs from the desired state is repaired;
// and a transaction the kernel refused makes the next sync a full render (the whole table replaced in
// one transaction). Docker's FORWARD policy DROP is the one thing an nftables table of our own cannot
// override, so this mode keeps the iptables mode's forward accept chain and its jump (and removes
// every other iptables rule of the iptables mode when it starts).

import os from 'node:os';
import { cleanupRestore } from './cleanup.js';
import { jumpHostsFrom } from './iptables.js';
import type { ProxyMetrics } from './metrics.js';
import type { ProxyService } from './model.js';
import type { ChainNames, Table } from './names.js';
import { nftCommentText, nftNames } from './nft-names.js';
import { chainsMatch, parseNftChainList, parseNftTable, type ParsedNftTable } from './nft-parse.js';
import type { ModelDelta } from './model-cache.js';
import { NftDesired } from './nft-desired.js';
import { NFT_SET_DECLS, newNftRenderCache, type NftRenderConfig, type NftState } from './nft-render.js';
import { diffNft, diffScript, diffSize, fullScript, isEmptyNftDiff, type NftDiff } from './nft-script.js';
import type { DataPlane, NetfilterHost, ProxierLogger, SyncResult } from './plane.js';
import { forwardRules, normalizeMark, normalizeRule } from './render.js';
import { normalizeCIDR } from '../util/ip.js';
import { parseSave } from './save-parse.js';

/** The whole-table read-back may use at most 1/READBACK_COST_FACTOR of the time (about 1% of a core). */
const READBACK_COST_FACTOR = 100;

type KernelView = { kind: 'missing' } | { kind: 'chains-match' } | { kind: 'table'; parsed: ParsedNftTable; reason: string };

export interface NftPlaneOptions {
  host: NetfilterHost;
  render: NftRenderConfig;
  /** The iptables chain names of this instance: the forward accept chain stays, the rest goes. */
  chains: ChainNames;
  log: ProxierLogger;
  metrics: ProxyMetrics;
  /** Clock (tests). */
  now?: () => number;
  /** Delete removed chains a second after they were emptied (default: on kernels before 6.2, see NftDiff.flushOnly). */
  deferChainDeletes?: boolean;
}

/** Kernels before 6.2 release a chain a deleted verdict map element pointed to only after a grace period. */
export function kernelNeedsDeferredDeletes(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return !!m && (Number(m[1]) < 6 || (Number(m[1]) === 6 && Number(m[2]) < 2));
}

/** How long an emptied chain waits before it is deleted when deletes are deferred (kube-proxy waits 1 s). */
const STALE_CHAIN_MS = 1000;

export class NftPlane implements DataPlane {
  readonly mode = 'nftables' as const;
  private readonly cache = newNftRenderCache();
  private readonly table: string;
  private readonly comment: string;
  /** The table as the model wants it, kept across syncs and updated per changed Service. */
  private desired?: NftDesired;
  /** The kernel holds `desired` (plus the emptied chains in `stale`): false before the first sync and after a failure. */
  private inSync = false;
  /** The last transaction was refused: the next one replaces the whole table. */
  private refused = false;
  private kernel?: KernelView;
  private lastReadBack = -Infinity;
  private readBackCostMs = 0;
  private iptablesModeRemoved = false;
  private forwardInPlace = false;
  private iptablesMissingLogged = false;
  private readonly now: () => number;
  private readonly deferDeletes: boolean;
  /** Chains emptied by a sync and not deleted yet (deferred deletes), with the time they were emptied. */
  private stale = new Map<string, number>();

  constructor(private readonly o: NftPlaneOptions) {
    this.table = nftNames(o.render.names).table;
    this.comment = nftCommentText(`kubelite service proxy of instance ${o.render.names.instanceValue} - managed by kubelite: changes by hand are undone`);
    this.now = o.now ?? (() => performance.now());
    this.deferDeletes = o.deferChainDeletes ?? kernelNeedsDeferredDeletes(os.release());
  }

  private get host(): Required<Pick<NetfilterHost, 'nftApply' | 'nftListTable' | 'nftListChains'>> {
    const h = this.o.host;
    if (!h.nftApply || !h.nftListTable || !h.nftListChains) throw new Error('the host tools have no nftables support');
    return h as Required<Pick<NetfilterHost, 'nftApply' | 'nftListTable' | 'nftListChains'>>;
  }

  async readKernel(): Promise<void> {
    this.kernel = undefined;
    if (this.refused) return; // a full render follows whatever the kernel holds
    const chains = parseNftChainList(await this.host.nftListChains(), this.table);
    if (!chains) {
      this.kernel = { kind: 'missing' };
      return;
    }
    let reason: string | undefined;
    if (!this.inSync || !this.desired) reason = 'adopt';
    else if (!chainsMatch(chains, this.withStale(this.desired.state))) reason = 'fingerprint';
    else if (this.now() - this.lastReadBack >= READBACK_COST_FACTOR * this.readBackCostMs) reason = 'periodic';
    if (!reason) {
      this.kernel = { kind: 'chains-match' };
      return;
    }
    const t0 = this.now();
    const text = await this.host.nftListTable(this.table);
    this.readBackCostMs = this.now() - t0;
    this.lastReadBack = this.now();
    const parsed = text === undefined ? undefined : parseNftTable(text, this.table);
    this.kernel = parsed ? { kind: 'table', parsed, reason } : { kind: 'missing' };
  }

  async write(model: ProxyService[], _prev: ProxyService[] | undefined, full: boolean, result: SyncResult, delta?: ModelDelta): Promise<string | undefined> {
    const kernel = full ? this.kernel : undefined;
    this.kernel = undefined;
    // What the kernel holds when we trust our memory (before `desired` moves on).
    const held = this.inSync && this.desired ? this.withStale(this.desired.state) : undefined;
    let whole: string | undefined;
    if (this.refused) whole = 'refused';
    else if (kernel?.kind === 'missing') whole = held ? 'table-missing' : 'first-load';
    else if (kernel?.kind === 'table' && !this.structureOk(kernel.parsed)) whole = 'repair';

    // The common case costs in proportion to the change: the desired state is updated in place and
    // yields the diff itself. Anything else (first sync, a read-back, a failure before) compares whole states.
    let d: NftDiff | undefined;
    if (!whole && held && delta && kernel?.kind !== 'table') d = this.desired!.update(delta);
    let base: NftState | undefined;
    if (!d) {
      this.desired = NftDesired.build(model, this.o.render, this.cache);
      if (!whole) {
        base = kernel?.kind === 'table' ? kernel.parsed.state : held;
        if (base) d = diffNft(base, this.desired.state);
        else whole = 'first-load';
      }
    }
    const next = this.desired!.state;
    let repaired: string | undefined;
    try {
      if (whole) {
        await this.host.nftApply(fullScript(this.table, next, this.comment));
        const counts = this.desired!.counts();
        result.fullRender = true;
        result.chainsWritten += next.chains.size;
        result.rulesWritten += counts.rules;
        result.elementsWritten = (result.elementsWritten ?? 0) + counts.elements;
        this.o.metrics.fullRenders.inc({ mode: this.mode, reason: whole });
        if (whole === 'table-missing' || whole === 'repair') repaired = `rewrote the whole nftables table (${whole === 'repair' ? 'its declarations were changed' : 'it was gone'})`;
        this.stale.clear();
      } else {
        if (this.deferDeletes) this.deferRemovals(d!, next, kernel?.kind === 'table');
        if (!isEmptyNftDiff(d!)) {
          await this.host.nftApply(diffScript(this.table, next, d!));
          const size = diffSize(d!, next);
          result.chainsWritten += size.chainsWritten;
          result.chainsDeleted += size.chainsDeleted;
          result.rulesWritten += size.rulesWritten;
          result.elementsWritten = (result.elementsWritten ?? 0) + size.elementsWritten;
          // Damage is what the kernel held that differs from what we had committed (not the changes this sync brings).
          const damage = kernel?.kind === 'table' && held ? diffNft(kernel.parsed.state, held) : undefined;
          if (damage && !isEmptyNftDiff(damage)) {
            const dmg = diffSize(damage, held!);
            repaired = `repaired the nftables table: ${dmg.chainsWritten} chain(s) rewritten, ${dmg.chainsDeleted} deleted, ${dmg.elementsWritten} element(s) fixed`;
          }
        }
      }
    } catch (e) {
      // One transaction: the kernel still holds what it held. Nothing remembered is trusted any more.
      this.inSync = false;
      this.refused = true;
      throw e;
    }
    this.inSync = true;
    this.refused = false;
    if (full || !this.forwardInPlace || !this.iptablesModeRemoved) await this.iptablesFootprint();
    return repaired;
  }

  /** `state` plus the chains emptied and not deleted yet (deferred deletes): what the kernel holds. */
  private withStale(state: NftState): NftState {
    if (this.stale.size === 0) return state;
    const chains = new Map(state.chains);
    for (const c of this.stale.keys()) if (!chains.has(c)) chains.set(c, { rules: [] });
    return { ...state, chains };
  }

  reset(): void {
    this.forwardInPlace = false;
  }

  /**
   * Kernels before 6.2: a chain whose map element goes in this transaction is only flushed now and
   * deleted by the first sync a second later (as kube-proxy does); until then it stays, empty.
   * Stale chains are then deleted once due, whether or not the diff mentions them.
   */
  private deferRemovals(d: NftDiff, next: NftState, fromKernel: boolean): void {
    const now = this.now();
    // A read-back is the truth: a stale chain deleted by hand is not waiting for anything any more.
    if (fromKernel) for (const c of this.stale.keys()) if (!d.remove.includes(c)) this.stale.delete(c);
    for (const c of this.stale.keys()) if (next.chains.has(c)) this.stale.delete(c);
    d.flushOnly = new Set();
    d.deleteOnly = new Set();
    const remove: string[] = [];
    const due = (since: number) => now - since >= STALE_CHAIN_MS;
    for (const c of d.remove) {
      const since = this.stale.get(c);
      if (since === undefined) {
        d.flushOnly.add(c);
        remove.push(c);
        this.stale.set(c, now);
      } else if (due(since)) {
        d.deleteOnly.add(c);
        remove.push(c);
        this.stale.delete(c);
      }
    }
    for (const [c, since] of this.stale) {
      if (d.flushOnly.has(c) || !due(since)) continue;
      d.deleteOnly.add(c);
      remove.push(c);
      this.stale.delete(c);
    }
    d.remove = remove;
  }

  /** The fixed maps and sets exist with their declared types, and nothing else is in the table. */
  private structureOk(p: ParsedNftTable): boolean {
    for (const [name, type] of Object.entries(NFT_SET_DECLS)) if (p.sets.get(name) !== type) return false;
    for (const name of p.sets.keys()) if (!(name in NFT_SET_DECLS) && !p.state.affinity.has(name)) return false;
    return p.comment === this.comment;
  }

  /**
   * The iptables side of this mode: the forward accept chain and its one jump (Docker's FORWARD policy
   * is DROP), and, once, the removal of everything else the iptables mode wrote.
   */
  private async iptablesFootprint(): Promise<void> {
    const cn = this.o.chains;
    const tables: Table[] = this.iptablesModeRemoved ? ['filter'] : ['nat', 'filter'];
    let dumps: string[];
    try {
      dumps = await Promise.all(tables.map((t) => this.o.host.save(t)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!this.iptablesMissingLogged) this.o.log.warn('proxy: iptables is not installed: nothing accepts forwarded service traffic if a FORWARD policy drops it');
      this.iptablesMissingLogged = true;
      this.iptablesModeRemoved = this.forwardInPlace = true;
      return;
    }
    const saved = Object.fromEntries(tables.map((t, i) => [t, parseSave(dumps[i])[t]]));
    if (!this.iptablesModeRemoved) {
      const notForward: ChainNames = { ...cn, isOwned: (c) => c !== cn.forward && cn.isOwned(c) };
      let removed = 0;
      for (const t of tables) {
        const plan = cleanupRestore(t, saved[t], notForward);
        if (!plan.text) continue;
        await this.o.host.restore(plan.text);
        removed += plan.chains;
      }
      if (removed) this.o.log.info(`proxy: removed ${removed} iptables chain(s) of the iptables mode`);
      this.iptablesModeRemoved = true;
      // What was just deleted is no longer in the dump; the filter dump is read again below if needed.
      if (removed) saved.filter = parseSave(await this.o.host.save('filter')).filter;
    }
    // Only the forward jump is wanted (in the filter table); the nat jumps went with their chains.
    delete saved.nat;
    const want = forwardRules(cn, normalizeMark(this.o.render.masqueradeMark), normalizeCIDR(this.o.render.podCIDR));
    const have = saved.filter?.chains.get(cn.forward);
    if (!have || have.length !== want.length || have.some((r, i) => normalizeRule(r) !== normalizeRule(want[i]))) {
      await this.o.host.restore(['*filter', `:${cn.forward} - [0:0]`, ...want, 'COMMIT', ''].join('\n'));
      if (have && this.forwardInPlace) this.o.log.warn(`proxy: repaired the ${cn.forward} chain`);
    }
    const plan = await this.o.host.ensureJumps(cn, jumpHostsFrom(saved), { forwardOnly: true });
    if (this.forwardInPlace && plan.insert.length + plan.remove.length > 0) {
      this.o.log.warn(`proxy: repaired ${plan.insert.length} missing and ${plan.remove.length} extra iptables jump rule(s)`);
    }
    this.forwardInPlace = true;
  }
}
