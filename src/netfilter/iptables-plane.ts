// The iptables data plane: renders everything (pure), diffs chain by chain against what it last wrote
// and sends only the difference to iptables-restore. A full sync compares with what iptables-save shows
// instead of with memory, which is what repairs a hand-deleted rule. The first sync also removes what
// the nftables mode may have left (switching modes leaves nothing of the other).

import { diffChains } from './diff.js';
import { jumpHostsFrom, type JumpHosts } from './iptables.js';
import type { ProxyService } from './model.js';
import type { ChainNames, Table } from './names.js';
import { nftTableName } from './nft-names.js';
import type { DataPlane, NetfilterHost, ProxierLogger, SyncResult } from './plane.js';
import { newRenderCache, renderRules, TABLES, type ChainRules, type RenderConfig } from './render.js';
import { ownedChains, parseSave, type SavedTable } from './save-parse.js';

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

export class IptablesPlane implements DataPlane {
  readonly mode = 'iptables' as const;
  private readonly cache = newRenderCache();
  /** What the kernel holds of ours, per table, as far as we know; a missing table is written whole. */
  private written: Partial<Record<Table, ChainRules>> = {};
  private knownJumps?: JumpHosts;
  private jumpsInPlace = false;

  /** What the kernel holds of our chains as far as we know; undefined until a sync put the jumps in place. */
  get writtenRules(): Partial<Record<Table, ChainRules>> | undefined {
    return this.jumpsInPlace ? this.written : undefined;
  }
  private otherModeRemoved = false;

  constructor(
    private readonly host: NetfilterHost,
    private readonly cn: ChainNames,
    private readonly renderCfg: RenderConfig,
    private readonly batchLines: number,
    private readonly log: ProxierLogger,
  ) {}

  async readKernel(): Promise<void> {
    // Compare with the kernel, not with our memory. Only this loop writes our chains, so what was
    // read is still what the kernel holds when we write. Both tables at once: each dump can take tens
    // of milliseconds when the host holds big rulesets.
    const saved: Partial<Record<string, SavedTable>> = {};
    const dumps = await Promise.all(TABLES.map((t) => this.host.save(t)));
    TABLES.forEach((t, i) => {
      saved[t] = parseSave(dumps[i])[t];
      this.written[t] = ownedChains(saved[t], this.cn.isOwned);
    });
    // Our restores never touch the built-in chains, so the jumps can be checked against this read.
    this.knownJumps = jumpHostsFrom(saved);
  }

  async write(model: ProxyService[], prev: ProxyService[] | undefined, full: boolean, result: SyncResult): Promise<string | undefined> {
    const knownJumps = full ? this.knownJumps : undefined;
    this.knownJumps = undefined;
    const rendered = renderRules(model, this.renderCfg, this.cache);
    const diff = diffChains(this.written, rendered.tables, { normalize: full });
    let firstError: Error | undefined;
    for (const t of tableOrder(prev, model)) {
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
    let repaired: string | undefined;
    if (full || !this.jumpsInPlace) {
      const plan = await this.host.ensureJumps(this.cn, knownJumps);
      if (this.jumpsInPlace && plan.insert.length + plan.remove.length > 0) {
        this.log.warn(`proxy: repaired ${plan.insert.length} missing and ${plan.remove.length} extra jump rule(s)`);
      }
      this.jumpsInPlace = true;
    }
    if (!this.otherModeRemoved) {
      // Switching from the nftables mode: its table goes once this mode's rules are in place.
      if (this.host.nftDeleteTable) {
        try {
          if (await this.host.nftDeleteTable(nftTableName(this.renderCfg.names))) this.log.info('proxy: removed the nftables table of the nftables mode');
        } catch (e) {
          this.log.warn(`proxy: could not remove the nftables mode's table: ${(e as Error).message}`);
        }
      }
      this.otherModeRemoved = true;
    }
    if (full && (result.chainsWritten || result.chainsDeleted)) repaired = `repaired ${result.chainsWritten} chain(s) and deleted ${result.chainsDeleted} stale chain(s)`;
    return repaired;
  }

  reset(): void {
    this.jumpsInPlace = false;
  }
}
