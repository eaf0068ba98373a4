// Which chains a sync has to write or delete. Pure.

import type { Table } from './names.js';
import { normalizeRule, TABLES, type ChainRules } from './render.js';

export interface ChainDiff {
  write: Record<Table, string[]>;
  del: Record<Table, string[]>;
}

function sameRules(a: string[], b: string[], normalize: boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (!normalize || normalizeRule(a[i]) !== normalizeRule(b[i])) return false;
  }
  return true;
}

/**
 * Compares `next` with `prev` (what we last wrote, or what iptables-save shows of our chains) chain by
 * chain. A table missing from `prev` is written whole. `normalize` tolerates the kernel's rounding of
 * probabilities, for comparisons with a read-back.
 */
export function diffChains(
  prev: Partial<Record<Table, ChainRules>> | undefined,
  next: Record<Table, ChainRules>,
  opts: { normalize?: boolean } = {},
): ChainDiff {
  const out: ChainDiff = { write: { nat: [], filter: [] }, del: { nat: [], filter: [] } };
  for (const t of TABLES) {
    const p = prev?.[t];
    for (const [chain, rules] of next[t]) {
      const old = p?.get(chain);
      if (!old || !sameRules(old, rules, opts.normalize ?? false)) out.write[t].push(chain);
    }
    if (p) for (const chain of p.keys()) if (!next[t].has(chain)) out.del[t].push(chain);
  }
  return out;
}

export function isEmptyDiff(d: ChainDiff): boolean {
  return TABLES.every((t) => d.write[t].length === 0 && d.del[t].length === 0);
}
