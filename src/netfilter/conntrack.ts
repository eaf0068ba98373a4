// Stale UDP flows. A UDP "connection" is NATed once, on its first packet, and conntrack keeps sending
// later packets the same way: to an endpoint that is gone, or (for a Service that had no endpoint)
// nowhere. kube-proxy deletes those entries after each sync; so do we. Planning is pure.

import { exec } from '../util/exec.js';
import type { ProxyService } from './model.js';

/** One `conntrack -D` call, as its arguments after `-D`. */
export type ConntrackDeletion = string[];

function readyIPs(s: ProxyService | undefined): Set<string> {
  return new Set((s?.endpoints ?? []).filter((e) => e.ready).map((e) => e.ip));
}

function destinations(s: ProxyService): string[] {
  return [...(s.clusterIP ? [s.clusterIP] : []), ...s.externalIPs, ...s.loadBalancerIPs];
}

/** What to delete after the rules moved from `prev` to `next` (both UDP and TCP ports may be given; only UDP counts). */
export function planConntrackCleanup(prev: ProxyService[] | undefined, next: ProxyService[]): ConntrackDeletion[] {
  if (!prev) return [];
  const out: ConntrackDeletion[] = [];
  const seen = new Set<string>();
  const add = (args: string[]) => {
    const id = args.join(' ');
    if (!seen.has(id)) {
      seen.add(id);
      out.push(args);
    }
  };
  const prevByKey = new Map(prev.filter((s) => s.protocol === 'UDP').map((s) => [s.key, s]));
  const nextByKey = new Map(next.filter((s) => s.protocol === 'UDP').map((s) => [s.key, s]));
  for (const [key, p] of prevByKey) {
    const n = nextByKey.get(key);
    if (n === p) continue; // the same model object: nothing changed
    const now = readyIPs(n);
    for (const ip of readyIPs(p)) {
      if (now.has(ip)) continue;
      // The endpoint left: flows NATed to it must pick a new endpoint on their next packet.
      for (const d of destinations(p)) add(['-p', 'udp', '--orig-dst', d, '--dst-nat', ip]);
      if (p.nodePort !== undefined) add(['-p', 'udp', '--dport', String(p.nodePort), '--dst-nat', ip]);
    }
  }
  for (const [key, n] of nextByKey) {
    const p = prevByKey.get(key);
    if (p === n || readyIPs(n).size === 0 || readyIPs(p).size > 0) continue;
    // First endpoint: flows that went un-NATed while there was none would otherwise stay that way.
    for (const d of destinations(n)) add(['-p', 'udp', '--orig-dst', d]);
    if (n.nodePort !== undefined) add(['-p', 'udp', '--dport', String(n.nodePort)]);
  }
  return out;
}

/** Runs `conntrack -D <args>`; "0 flow entries" (exit 1 with that message) is not an error. */
export async function conntrackDelete(args: ConntrackDeletion): Promise<number> {
  const r = await exec('conntrack', ['-D', ...args], { timeoutMs: 10_000 });
  const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
  if (r.code === 0 || (m && m[1] === '0')) return m ? Number(m[1]) : 0;
  throw new Error(`conntrack -D ${args.join(' ')}: ${r.stderr.trim()}`);
}
