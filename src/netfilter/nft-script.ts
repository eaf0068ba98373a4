// `nft -f` input for kubelite's table. Pure. A full render replaces the whole table in one transaction
// (`table` + `delete table` + the table block: atomic, whatever the kernel held); a partial one sends
// only what differs between two states (chains flushed and refilled, map and set elements added and
// deleted), also as one transaction. Nothing here reads the kernel: the caller keeps what it committed.

import { NFT, NFT_FAMILY, NFT_MAPS, nftComment, type NftMapName } from './nft-names.js';
import { NFT_SET_DECLS, type NftChain, type NftState } from './nft-render.js';

export interface NftDiff {
  /** Chains that do not exist yet (declared first, so rules anywhere may jump to them). */
  create: string[];
  /** Chains whose rules differ: flushed and refilled. */
  rewrite: string[];
  /** Base chains whose hook differs (hand-made damage): deleted and declared again. */
  rehook: string[];
  /** Chains to delete, after everything that referenced them is gone. */
  remove: string[];
  /**
   * Set by the caller on kernels before 6.2, which notice only a moment later that a chain a deleted map
   * element pointed to is unreferenced: these chains are only flushed now (and deleted by a later sync).
   */
  flushOnly?: Set<string>;
  /** Empty chains a previous sync flushed, deleted now without a flush. */
  deleteOnly?: Set<string>;
  elements: Record<NftMapName, { add: string[]; del: string[] }>;
  hairpin: { add: string[]; del: string[] };
  affinity: { add: string[]; del: string[] };
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * What turns `prev` into `next`. Chains are compared by their rules (a chain comment is informative and
 * never rewritten); unchanged fragments share their rule arrays, so the common case is a pointer compare.
 */
export function diffNft(prev: NftState, next: NftState): NftDiff {
  const d: NftDiff = {
    create: [],
    rewrite: [],
    rehook: [],
    remove: [],
    elements: Object.fromEntries(NFT_MAPS.map((m) => [m, { add: [], del: [] }])) as unknown as NftDiff['elements'],
    hairpin: { add: [], del: [] },
    affinity: { add: [], del: [] },
  };
  for (const [name, chain] of next.chains) {
    const old = prev.chains.get(name);
    if (!old) d.create.push(name);
    else if ((old.hook ?? '') !== (chain.hook ?? '')) d.rehook.push(name);
    else if (!sameRules(old.rules, chain.rules)) d.rewrite.push(name);
  }
  for (const name of prev.chains.keys()) if (!next.chains.has(name)) d.remove.push(name);
  for (const m of NFT_MAPS) {
    const p = prev.maps[m];
    const n = next.maps[m];
    const e = d.elements[m];
    for (const [k, v] of n) {
      const old = p.get(k);
      if (old === v) continue;
      if (old !== undefined) e.del.push(k);
      e.add.push(k);
    }
    for (const k of p.keys()) if (!n.has(k)) e.del.push(k);
  }
  for (const ip of next.hairpin) if (!prev.hairpin.has(ip)) d.hairpin.add.push(ip);
  for (const ip of prev.hairpin) if (!next.hairpin.has(ip)) d.hairpin.del.push(ip);
  // By name only: the timeout is part of the name, so a new timeout is a new set.
  for (const set of next.affinity.keys()) if (!prev.affinity.has(set)) d.affinity.add.push(set);
  for (const set of prev.affinity.keys()) if (!next.affinity.has(set)) d.affinity.del.push(set);
  return d;
}

export function isEmptyNftDiff(d: NftDiff): boolean {
  if (d.create.length || d.rewrite.length || d.rehook.length || d.remove.length) return false;
  if (d.hairpin.add.length || d.hairpin.del.length || d.affinity.add.length || d.affinity.del.length) return false;
  return NFT_MAPS.every((m) => d.elements[m].add.length === 0 && d.elements[m].del.length === 0);
}

/** Rules, elements and chains a diff writes, for metrics and logs. */
export function diffSize(d: NftDiff, next: NftState): { chainsWritten: number; chainsDeleted: number; rulesWritten: number; elementsWritten: number } {
  let rulesWritten = 0;
  for (const c of [...d.create, ...d.rewrite, ...d.rehook]) rulesWritten += next.chains.get(c)!.rules.length;
  let elementsWritten = d.hairpin.add.length + d.hairpin.del.length;
  for (const m of NFT_MAPS) elementsWritten += d.elements[m].add.length + d.elements[m].del.length;
  return { chainsWritten: d.create.length + d.rewrite.length + d.rehook.length, chainsDeleted: d.remove.length, rulesWritten, elementsWritten };
}

function chainSpec(chain: NftChain): string {
  const parts: string[] = [];
  if (chain.hook) parts.push(chain.hook);
  if (chain.comment) parts.push(`${nftComment(chain.comment)};`);
  return parts.length ? ` { ${parts.join(' ')} }` : '';
}

function affinityDecl(timeout: number): string {
  return `type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s;`;
}

const hairpinElement = (ip: string) => `${ip} . ${ip}`;

/** Splits long element lists so no single command line gets huge. */
function chunks<T>(xs: T[], n = 2000): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * The transaction for a diff from `prev` to `next` (which must be what `diffNft` compared). Order: new
 * sets and chains first, then rules, then map elements (deletions before additions, so a changed verdict
 * is a delete plus an add of the same key), then the chains and sets nothing references any more.
 */
export function diffScript(table: string, next: NftState, d: NftDiff): string {
  const T = `${NFT_FAMILY} ${table}`;
  const out: string[] = [];
  for (const set of d.affinity.add) out.push(`add set ${T} ${set} { ${affinityDecl(next.affinity.get(set)!)} }`);
  for (const name of d.rehook) out.push(`flush chain ${T} ${name}`, `delete chain ${T} ${name}`);
  for (const name of [...d.create, ...d.rehook]) out.push(`add chain ${T} ${name}${chainSpec(next.chains.get(name)!)}`);
  for (const name of [...d.create, ...d.rewrite]) out.push(`flush chain ${T} ${name}`);
  for (const name of [...d.create, ...d.rewrite, ...d.rehook]) for (const r of next.chains.get(name)!.rules) out.push(`add rule ${T} ${name} ${r}`);
  for (const m of NFT_MAPS) {
    const e = d.elements[m];
    for (const c of chunks(e.del)) out.push(`delete element ${T} ${m} { ${c.join(', ')} }`);
    for (const c of chunks(e.add)) out.push(`add element ${T} ${m} { ${c.map((k) => `${k} : ${next.maps[m].get(k)}`).join(', ')} }`);
  }
  for (const c of chunks(d.hairpin.del)) out.push(`delete element ${T} ${NFT.hairpin} { ${c.map(hairpinElement).join(', ')} }`);
  for (const c of chunks(d.hairpin.add)) out.push(`add element ${T} ${NFT.hairpin} { ${c.map(hairpinElement).join(', ')} }`);
  // Flush all first: a removed ext chain jumps to a removed svc chain.
  for (const name of d.remove) if (!d.deleteOnly?.has(name)) out.push(`flush chain ${T} ${name}`);
  for (const name of d.remove) if (!d.flushOnly?.has(name)) out.push(`delete chain ${T} ${name}`);
  for (const set of d.affinity.del) out.push(`delete set ${T} ${set}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * The whole table as one transaction that replaces whatever the kernel holds under that name (`table`
 * first so `delete table` never fails on a missing one). Dynamic affinity sets start empty.
 */
export function fullScript(table: string, state: NftState, comment: string): string {
  const T = `${NFT_FAMILY} ${table}`;
  const out: string[] = [`table ${T}`, `delete table ${T}`, `table ${T} {`, `\t${nftComment(comment)}`];
  const elements = (items: string[]) => {
    if (items.length === 0) return;
    out.push(`\t\telements = { ${items[0]}${items.length > 1 ? ',' : ''}`);
    for (let i = 1; i < items.length; i++) out.push(`\t\t\t${items[i]}${i < items.length - 1 ? ',' : ''}`);
    out.push('\t\t}');
  };
  for (const m of NFT_MAPS) {
    out.push(`\tmap ${m} {`, `\t\t${NFT_SET_DECLS[m]}`);
    elements([...state.maps[m]].map(([k, v]) => `${k} : ${v}`));
    out.push('\t}');
  }
  out.push(`\tset ${NFT.hairpin} {`, `\t\t${NFT_SET_DECLS[NFT.hairpin]}`);
  elements([...state.hairpin].map(hairpinElement));
  out.push('\t}');
  for (const [set, timeout] of state.affinity) out.push(`\tset ${set} {`, '\t\ttype ipv4_addr', '\t\tflags dynamic,timeout', `\t\ttimeout ${timeout}s`, '\t}');
  for (const [name, chain] of state.chains) {
    out.push(`\tchain ${name} {`);
    if (chain.hook) out.push(`\t\t${chain.hook}`);
    if (chain.comment) out.push(`\t\t${nftComment(chain.comment)}`);
    for (const r of chain.rules) out.push(`\t\t${r}`);
    out.push('\t}');
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** `nft -f` input that deletes the table (after `table` makes sure it exists, so it never fails). */
export function deleteTableScript(table: string): string {
  return `table ${NFT_FAMILY} ${table}\ndelete table ${NFT_FAMILY} ${table}\n`;
}
