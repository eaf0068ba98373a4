// The page's view of the kernel's per-endpoint counters: totals as sampled, and a smoothed rate
// (new connections per second) from successive samples. Pure.

import type { CounterStatus, WCounter } from '../wire.js';
import { counterKey } from '../wire.js';

export interface CounterSum {
  packets: number;
  bytes: number;
  /** packets (new connections) per second, smoothed */
  rate: number;
}

/** Weight of the newest one-second rate; the rest is the previous smoothed value. */
const ALPHA = 0.6;

export class CounterBook {
  private readonly totals = new Map<string, { packets: number; bytes: number; rate: number }>();
  private lastAt = 0;
  status: CounterStatus = { ok: false, reason: 'waiting for the first sample' };
  version = 0;

  apply(msg: { at: number; full: boolean; items: WCounter[]; status: CounterStatus }): void {
    this.status = msg.status;
    const dt = this.lastAt && msg.at > this.lastAt ? (msg.at - this.lastAt) / 1000 : 0;
    const seen = new Set<string>();
    for (const [ns, svc, port, proto, ep, packets, bytes] of msg.items) {
      const key = counterKey(ns, svc, port, proto, ep);
      seen.add(key);
      const old = this.totals.get(key);
      // A counter that went down was reset (the rule was rewritten): count from zero.
      const delta = old ? (packets >= old.packets ? packets - old.packets : packets) : 0;
      const inst = dt > 0 ? delta / dt : 0;
      const rate = old ? ALPHA * inst + (1 - ALPHA) * old.rate : 0;
      this.totals.set(key, { packets, bytes, rate });
    }
    for (const [key, v] of this.totals) {
      if (seen.has(key)) continue;
      if (msg.full) this.totals.delete(key);
      else v.rate = (1 - ALPHA) * v.rate; // unchanged this second: no new connections
    }
    this.lastAt = msg.at;
    this.version++;
  }

  /** Forgets everything (a new stream starts with a full sample). */
  reset(): void {
    this.totals.clear();
    this.lastAt = 0;
    this.version++;
  }

  sum(keys: Iterable<string>): CounterSum {
    const out: CounterSum = { packets: 0, bytes: 0, rate: 0 };
    for (const k of keys) {
      const v = this.totals.get(k);
      if (!v) continue;
      out.packets += v.packets;
      out.bytes += v.bytes;
      out.rate += v.rate;
    }
    return out;
  }
}
