// Reading `nft list` output back. Pure. Only the periodic repair and the first sync of a restarted
// proxier read the kernel (never the hot path); they parse what nft prints into the same NftState the
// renderer produces, so one diff decides what to repair. The renderer writes rules in the form nft
// prints them, so the only normalisation needed is dropping counter values.

import { NFT, NFT_MAPS, type NftMapName } from './nft-names.js';
import { emptyNftState, type NftChain, type NftState } from './nft-render.js';

export interface ParsedNftTable {
  name: string;
  comment?: string;
  state: NftState;
  /** Every set and map declared, with its `type ...` line (to check the fixed ones exist as declared). */
  sets: Map<string, string>;
}

/** `counter packets 12 bytes 720` -> `counter`. */
export function normalizeNftRule(rule: string): string {
  return rule.replace(/\bcounter packets \d+ bytes \d+/g, 'counter').replace(/\s+/g, ' ').trim();
}

/** nft prints timeouts as `1d2h3m4s` (and `500ms`). */
export function parseNftDuration(s: string): number {
  let total = 0;
  let matched = '';
  for (const m of s.matchAll(/(\d+)(ms|d|h|m|s)/g)) {
    const n = Number(m[1]);
    total += m[2] === 'd' ? n * 86400 : m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
    matched += m[0];
  }
  if (matched !== s) throw new Error(`unexpected nft duration ${JSON.stringify(s)}`);
  return total;
}

function unquote(s: string): string {
  const m = /^"(.*)"$/.exec(s.trim());
  return m ? m[1] : s.trim();
}

/** Splits an `elements = { a, b, ... }` body (already joined into one line) into its elements. */
function splitElements(body: string): string[] {
  const inner = body.replace(/^\s*\{/, '').replace(/\}\s*$/, '');
  return inner
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
}

/**
 * Parses `nft list table ip NAME` (or a listing holding several tables) and returns the table `name`,
 * or undefined when the listing does not hold it.
 */
export function parseNftTable(text: string, name: string): ParsedNftTable | undefined {
  const lines = text.split('\n');
  let i = lines.findIndex((l) => l.trim() === `table ip ${name} {`);
  if (i < 0) return undefined;
  const out: ParsedNftTable = { name, state: emptyNftState(), sets: new Map() };
  const known = new Set<string>(NFT_MAPS);
  for (i++; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '}') break;
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = /^comment (".*")$/.exec(line))) {
      out.comment = unquote(m[1]);
    } else if ((m = /^(set|map) (\S+) \{$/.exec(line))) {
      const setName = m[2];
      let type = '';
      let timeout: number | undefined;
      let elements: string[] = [];
      for (i++; i < lines.length && lines[i].trim() !== '}'; i++) {
        const l = lines[i].trim();
        if (l.startsWith('type ')) type = l;
        else if (l.startsWith('timeout ')) timeout = parseNftDuration(l.slice('timeout '.length));
        else if (l.startsWith('elements = {')) {
          // One element per line or several: gather the lines (a joined string grown line by line would
          // make 10,000 elements quadratic), up to the one that closes the list.
          const parts = [l.slice('elements = '.length)];
          let last = l;
          while (!last.endsWith('}') && i + 1 < lines.length) {
            last = lines[++i].trim();
            parts.push(last);
          }
          elements = splitElements(parts.join(' '));
        }
      }
      out.sets.set(setName, type);
      if (known.has(setName)) {
        const map = out.state.maps[setName as NftMapName];
        for (const e of elements) {
          const at = e.indexOf(' : ');
          if (at > 0) map.set(e.slice(0, at), e.slice(at + 3));
        }
      } else if (setName === NFT.hairpin) {
        for (const e of elements) out.state.hairpin.add(e.split(' . ')[0]);
      } else if (timeout !== undefined) {
        out.state.affinity.set(setName, timeout);
      }
    } else if ((m = /^chain (\S+) \{$/.exec(line))) {
      const chainName = m[1];
      const chain: NftChain & { rules: string[] } = { rules: [] };
      for (i++; i < lines.length && lines[i].trim() !== '}'; i++) {
        const l = lines[i].trim();
        if (l === '') continue;
        if (/^type \S+ hook /.test(l)) chain.hook = l;
        else if (l.startsWith('comment "')) chain.comment = unquote(l.slice('comment '.length));
        else chain.rules.push(normalizeNftRule(l));
      }
      out.state.chains.set(chainName, chain);
    }
  }
  return out;
}

/** Chain names and hooks of one table from `nft list chains ip` (the cheap fingerprint). */
export function parseNftChainList(text: string, name: string): Map<string, string> | undefined {
  const lines = text.split('\n');
  let i = lines.findIndex((l) => l.trim() === `table ip ${name} {`);
  if (i < 0) return undefined;
  const out = new Map<string, string>();
  let current: string | undefined;
  for (i++; i < lines.length; i++) {
    const line = lines[i].trim();
    if (current === undefined && line === '}') break;
    const m = /^chain (\S+) \{$/.exec(line);
    if (m) {
      current = m[1];
      out.set(current, '');
    } else if (line === '}') {
      current = undefined;
    } else if (current !== undefined && /^type \S+ hook /.test(line)) {
      out.set(current, line);
    }
  }
  return out;
}

/** True when the chains the kernel holds (names and hooks) are exactly those of `state`. */
export function chainsMatch(listed: Map<string, string>, state: NftState): boolean {
  if (listed.size !== state.chains.size) return false;
  for (const [name, chain] of state.chains) if (listed.get(name) !== (chain.hook ?? '')) return false;
  return true;
}
