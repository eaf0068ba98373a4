// The desired table kept across syncs, so a change costs in proportion to the change: given the service
// ports that left and came since the last sync (ModelCache's delta), it updates the state in place and
// returns exactly the NftDiff from the previous state, without visiting the 10,000 Services that did
// not change. Pure apart from its own state; a full build gives the same state as renderNft.

import type { ModelDelta } from './model-cache.js';
import { compareProxyServices, type ProxyService } from './model.js';
import { NFT_MAPS, type NftMapName } from './nft-names.js';
import { emptyNftState, fixedChains, fragmentOf, nftContext, type NftChain, type NftCtx, type NftRenderCache, type NftRenderConfig, type NftState } from './nft-render.js';
import type { NftDiff } from './nft-script.js';

interface Claim {
  svc: ProxyService;
  verdict: string;
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function emptyNftDiff(): NftDiff {
  return {
    create: [],
    rewrite: [],
    rehook: [],
    remove: [],
    elements: Object.fromEntries(NFT_MAPS.map((m) => [m, { add: [], del: [] }])) as unknown as NftDiff['elements'],
    hairpin: { add: [], del: [] },
    affinity: { add: [], del: [] },
  };
}

export class NftDesired {
  readonly state: NftState = emptyNftState();
  /** Every Service claiming a map key, in model order: the first is the one in the map (as the first iptables rule wins). */
  private readonly claims = new Map<string, Claim[]>();
  /** How many service ports use each endpoint address (the hairpin set holds each once). */
  private readonly hairpinRefs = new Map<string, number>();
  private readonly ctx: NftCtx;

  private constructor(
    cfg: NftRenderConfig,
    private readonly cache: NftRenderCache,
  ) {
    this.ctx = nftContext(cfg, cache);
    for (const [name, chain] of fixedChains(this.ctx)) this.state.chains.set(name, chain);
  }

  /** The state for a whole model (as renderNft), ready for updates. */
  static build(model: ProxyService[], cfg: NftRenderConfig, cache: NftRenderCache): NftDesired {
    const d = new NftDesired(cfg, cache);
    for (const s of model) d.add(s, undefined);
    return d;
  }

  get table(): string {
    return this.ctx.nn.table;
  }

  /** Rules and elements in the whole table (for a full render's figures). */
  counts(): { rules: number; elements: number } {
    let rules = 0;
    for (const c of this.state.chains.values()) rules += c.rules.length;
    let elements = this.state.hairpin.size;
    for (const m of NFT_MAPS) elements += this.state.maps[m].size;
    return { rules, elements };
  }

  /**
   * Applies a model delta and returns what changed, as a diff from the state before. Undefined when a
   * removed service port was never rendered here (the caller then builds afresh).
   */
  update(delta: ModelDelta): NftDiff | undefined {
    for (const s of delta.removed) if (!this.cache.fragments.has(s)) return undefined;
    const chainsBefore = new Map<string, NftChain | undefined>();
    const keysBefore = new Map<string, string | undefined>();
    const hairpinBefore = new Map<string, boolean>();
    const affinityBefore = new Map<string, boolean>();
    const touched = { chainsBefore, keysBefore, hairpinBefore, affinityBefore };
    for (const s of delta.removed) this.remove(s, touched);
    for (const s of delta.added) this.add(s, touched);

    const d = emptyNftDiff();
    for (const [name, before] of chainsBefore) {
      const after = this.state.chains.get(name);
      if (!before && after) d.create.push(name);
      else if (before && !after) d.remove.push(name);
      else if (before && after && !sameRules(before.rules, after.rules)) d.rewrite.push(name);
    }
    for (const [ck, before] of keysBefore) {
      const nl = ck.indexOf('\n');
      const map = ck.slice(0, nl) as NftMapName;
      const key = ck.slice(nl + 1);
      const after = this.claims.get(ck)?.[0]?.verdict;
      if (after === undefined) this.state.maps[map].delete(key);
      else this.state.maps[map].set(key, after);
      if (before === after) continue;
      if (before !== undefined) d.elements[map].del.push(key);
      if (after !== undefined) d.elements[map].add.push(key);
    }
    for (const [ip, before] of hairpinBefore) {
      const after = this.state.hairpin.has(ip);
      if (before && !after) d.hairpin.del.push(ip);
      if (!before && after) d.hairpin.add.push(ip);
    }
    for (const [set, before] of affinityBefore) {
      const after = this.state.affinity.has(set);
      if (before && !after) d.affinity.del.push(set);
      if (!before && after) d.affinity.add.push(set);
    }
    return d;
  }

  private remove(s: ProxyService, t: Touched): void {
    const f = fragmentOf(s, this.ctx, this.cache);
    for (const [name] of f.chains) {
      if (!t.chainsBefore.has(name)) t.chainsBefore.set(name, this.state.chains.get(name));
      this.state.chains.delete(name);
    }
    for (const [map, key] of f.elements) {
      const ck = `${map}\n${key}`;
      if (!t.keysBefore.has(ck)) t.keysBefore.set(ck, this.state.maps[map].get(key));
      const list = this.claims.get(ck);
      const rest = list?.filter((c) => c.svc !== s) ?? [];
      if (rest.length) this.claims.set(ck, rest);
      else this.claims.delete(ck);
    }
    for (const ip of f.hairpin) {
      if (!t.hairpinBefore.has(ip)) t.hairpinBefore.set(ip, this.state.hairpin.has(ip));
      const n = (this.hairpinRefs.get(ip) ?? 1) - 1;
      if (n > 0) this.hairpinRefs.set(ip, n);
      else {
        this.hairpinRefs.delete(ip);
        this.state.hairpin.delete(ip);
      }
    }
    for (const [set] of f.affinity) {
      if (!t.affinityBefore.has(set)) t.affinityBefore.set(set, this.state.affinity.has(set));
      this.state.affinity.delete(set);
    }
  }

  /** `t` undefined: a full build (maps are written directly, first claim wins). */
  private add(s: ProxyService, t: Touched | undefined): void {
    const f = fragmentOf(s, this.ctx, this.cache);
    for (const [name, chain] of f.chains) {
      if (t && !t.chainsBefore.has(name)) t.chainsBefore.set(name, this.state.chains.get(name));
      this.state.chains.set(name, chain);
    }
    for (const [map, key, verdict] of f.elements) {
      const ck = `${map}\n${key}`;
      if (t && !t.keysBefore.has(ck)) t.keysBefore.set(ck, this.state.maps[map].get(key));
      const list = this.claims.get(ck);
      const claim = { svc: s, verdict };
      if (!list) {
        this.claims.set(ck, [claim]);
        if (!t) this.state.maps[map].set(key, verdict);
        continue;
      }
      // Keep model order, so the winner is the one a full render would pick.
      let i = list.length;
      while (i > 0 && compareProxyServices(list[i - 1].svc, s) > 0) i--;
      list.splice(i, 0, claim);
    }
    for (const ip of f.hairpin) {
      if (t && !t.hairpinBefore.has(ip)) t.hairpinBefore.set(ip, this.state.hairpin.has(ip));
      this.hairpinRefs.set(ip, (this.hairpinRefs.get(ip) ?? 0) + 1);
      this.state.hairpin.add(ip);
    }
    for (const [set, timeout] of f.affinity) {
      if (t && !t.affinityBefore.has(set)) t.affinityBefore.set(set, this.state.affinity.has(set));
      this.state.affinity.set(set, timeout);
    }
  }
}

interface Touched {
  chainsBefore: Map<string, NftChain | undefined>;
  keysBefore: Map<string, string | undefined>;
  hairpinBefore: Map<string, boolean>;
  affinityBefore: Map<string, boolean>;
}
