// Per-endpoint counters for the page: where they come from (a CounterSource: the iptables proxier's
// rule counters, or the nftables one's), and what each page is sent every second (only what changed).

import type { EndpointCounter } from '../netfilter/counters.js';
import { counterKey, type WCounter } from './wire.js';

/** Reads every endpoint's counters of this node's data plane. */
export type CounterSource = () => Promise<EndpointCounter[]>;

export interface CounterUpdate {
  /** True when `items` is everything (the page replaces what it had). */
  full: boolean;
  items: WCounter[];
  next: Map<string, WCounter>;
}

/**
 * The counters of namespace `ns` ('' = all) that changed since `prev` (everything, when `prev` is
 * undefined). Endpoints that disappeared make the update a full one, so the page forgets them. Pure.
 */
export function counterUpdate(prev: Map<string, WCounter> | undefined, sample: EndpointCounter[], ns: string): CounterUpdate {
  const next = new Map<string, WCounter>();
  for (const c of sample) {
    if (ns && c.namespace !== ns) continue;
    next.set(counterKey(c.namespace, c.service, c.port, c.protocol, c.endpoint), [c.namespace, c.service, c.port, c.protocol, c.endpoint, c.packets, c.bytes]);
  }
  let full = prev === undefined;
  if (prev) for (const k of prev.keys()) if (!next.has(k)) full = true;
  if (full) return { full: true, items: [...next.values()], next };
  const items: WCounter[] = [];
  for (const [k, v] of next) {
    const old = prev!.get(k);
    if (!old || old[5] !== v[5] || old[6] !== v[6]) items.push(v);
  }
  return { full: false, items, next };
}
