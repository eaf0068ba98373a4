// Chain names, rule comments and the ownership test for one kubelite instance. Every name that reaches
// iptables is built here, so this is the one place that has to guarantee they are safe and short.

import { createHash } from 'node:crypto';
import type { HostNames } from '../config.js';

/** iptables' limit for a chain name (XT_EXTENSION_MAXNAMELEN 29, minus the NUL). */
export const MAX_CHAIN_LEN = 28;
/** kube-proxy takes 16 base32 characters of the hash; a long instance tag leaves a little less room. */
const MAX_HASH_LEN = 16;
/** xt_comment keeps at most 255 bytes. */
const MAX_COMMENT_LEN = 255;

export type Table = 'nat' | 'filter';
export type PerServiceKind = 'SVC' | 'SEP' | 'EXT' | 'SVL';

export interface ChainNames {
  /** nat and filter: the dispatch chain (same name in both tables, as kube-proxy does). */
  services: string;
  nodePorts: string;
  markMasq: string;
  postrouting: string;
  /** filter: rejects for node ports / external addresses without endpoints. */
  extServices: string;
  /** filter: accepts forwarded service traffic Docker's FORWARD policy would drop. */
  forward: string;
  hashLen: number;
  /** `<S>-SVC|EXT|SVL-<hash>` for a service port. */
  servicePortChain(kind: 'SVC' | 'EXT' | 'SVL', key: string, protocol: string): string;
  /** `<S>-SEP-<hash>` for one endpoint of a service port. */
  endpointChain(key: string, protocol: string, endpoint: string): string;
  /** True only for chains this instance creates (never another instance's, never Docker's). */
  isOwned(chain: string): boolean;
}

const SAFE_PREFIX = /^[A-Z0-9]+(-[A-Z0-9]+)*$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (Go's base32.StdEncoding, as kube-proxy uses). */
export function base32(buf: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function hash(input: string, len: number): string {
  return base32(createHash('sha256').update(input).digest()).slice(0, len);
}

export function chainNames(names: HostNames): ChainNames {
  const P = names.chainPrefix;
  const S = names.shortChainPrefix;
  if (!SAFE_PREFIX.test(P) || !SAFE_PREFIX.test(S)) throw new Error(`unsafe chain prefix ${JSON.stringify(P)} / ${JSON.stringify(S)}`);
  const top = {
    services: `${P}-SERVICES`,
    nodePorts: `${P}-NODEPORTS`,
    markMasq: `${P}-MARK-MASQ`,
    postrouting: `${P}-POSTROUTING`,
    extServices: `${P}-EXT-SERVICES`,
    forward: `${P}-FORWARD`,
  };
  for (const c of Object.values(top)) if (c.length > MAX_CHAIN_LEN) throw new Error(`chain name ${c} is longer than ${MAX_CHAIN_LEN} characters`);
  const hashLen = Math.min(MAX_HASH_LEN, MAX_CHAIN_LEN - `${S}-SVC-`.length);
  if (hashLen < 10) throw new Error(`short chain prefix ${S} leaves too little room for a hash`);
  const topSet = new Set(Object.values(top));
  // Exact shape, fixed hash length and an alphabet without '-': another instance's chains
  // (KL-NFT1-SVC-...) can never match the default instance's pattern (KL-SVC-...), nor the reverse.
  const perService = new RegExp(`^${S}-(SVC|SEP|EXT|SVL)-[A-Z2-7]{${hashLen}}$`);
  // The instance goes into the hash so two instances never share a `recent` list name either.
  const inst = names.instanceValue;
  return {
    ...top,
    hashLen,
    servicePortChain: (kind, key, protocol) => `${S}-${kind}-${hash(`${inst}/${key}/${protocol}`, hashLen)}`,
    endpointChain: (key, protocol, endpoint) => `${S}-SEP-${hash(`${inst}/${key}/${protocol}/${endpoint}`, hashLen)}`,
    isOwned: (chain) => topSet.has(chain) || perService.test(chain),
  };
}

/** Replaces anything outside `[A-Za-z0-9_.:/-]` so a user-supplied name can sit in a rule comment. */
export function sanitizeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.:/-]/g, '_');
}

/** Formats a value the way iptables-save does (xtables_save_string), so rendered rules compare equal to saved ones. */
export function saveQuote(value: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(value)) return value;
  return `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** `-m comment --comment <text>` in save form; `text` must already be sanitised. */
export function commentArgs(text: string): string {
  const t = text.length > MAX_COMMENT_LEN ? text.slice(0, MAX_COMMENT_LEN) : text;
  return `-m comment --comment ${saveQuote(t)}`;
}
