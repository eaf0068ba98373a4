// Reading `iptables-save` output. Pure.

import type { Table } from './names.js';
import type { ChainRules } from './render.js';

export interface SavedTable {
  /** Every chain in the dump (built-in and user-defined) with its rules as `-A <chain> ...` lines. */
  chains: ChainRules;
}

/** Parses the output of `iptables-save [-t table]`; tables not in the dump are absent. */
export function parseSave(text: string): Partial<Record<Table | string, SavedTable>> {
  const out: Record<string, SavedTable> = {};
  let cur: SavedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { chains: new Map() };
      out[line.slice(1)] = cur;
    } else if (line === 'COMMIT') {
      cur = undefined;
    } else if (cur && line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0];
      if (!cur.chains.has(name)) cur.chains.set(name, []);
    } else if (cur && line.startsWith('-A ')) {
      const name = line.slice(3).split(' ')[0];
      const rules = cur.chains.get(name) ?? cur.chains.set(name, []).get(name)!;
      rules.push(line);
    }
  }
  return out;
}

/** Only the chains `isOwned` accepts. */
export function ownedChains(table: SavedTable | undefined, isOwned: (chain: string) => boolean): ChainRules {
  const out: ChainRules = new Map();
  if (table) for (const [chain, rules] of table.chains) if (isOwned(chain)) out.set(chain, rules);
  return out;
}

/** Splits a saved rule into arguments, undoing iptables-save's double quotes and backslash escapes. */
export function tokenizeRule(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) cur += line[++i];
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = true;
      inToken = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (quoted) throw new Error(`unterminated quote in rule: ${line}`);
  if (inToken) out.push(cur);
  return out;
}

/** The `-j` target of a saved rule, if any. */
export function ruleTarget(line: string): string | undefined {
  const toks = tokenizeRule(line);
  const i = toks.indexOf('-j');
  return i >= 0 ? toks[i + 1] : undefined;
}
