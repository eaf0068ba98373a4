// This host's addresses as kubelite uses them: the node's InternalIP (from its Node object when the
// agent registered one, else the address of the default route's interface) for LoadBalancer Services
// without a pool, and as the proxier's node addresses.

import fs from 'node:fs';
import os from 'node:os';
import type { Node } from '../api/types.js';
import { isIPv4 } from '../util/ip.js';

/**
 * The host's primary IPv4 address: the one on the interface of the default route (/proc/net/route),
 * else the first non-loopback address, else loopback.
 */
export function primaryIPv4(routeTable: string, ifaces: Record<string, { address: string; family: string | number; internal: boolean }[] | undefined>): string {
  let iface: string | undefined;
  for (const line of routeTable.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f[1] === '00000000' && f[7] === '00000000') {
      iface = f[0];
      break;
    }
  }
  const v4 = (list: { address: string; family: string | number; internal: boolean }[] | undefined) => (list ?? []).find((a) => (a.family === 'IPv4' || a.family === 4) && !a.internal)?.address;
  if (iface) {
    const a = v4(ifaces[iface]);
    if (a) return a;
  }
  for (const [name, list] of Object.entries(ifaces)) {
    if (name.startsWith('docker') || name.startsWith('br-') || name.startsWith('veth') || name.startsWith('kl')) continue;
    const a = v4(list);
    if (a) return a;
  }
  return '127.0.0.1';
}

export function hostPrimaryIPv4(): string {
  let routes = '';
  try {
    routes = fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    // Not Linux, or no procfs: fall back to the first non-loopback address.
  }
  return primaryIPv4(routes, os.networkInterfaces() as Parameters<typeof primaryIPv4>[1]);
}

/** InternalIPs of `nodes` (only `nodeName`'s when given), unique and sorted. Pure. */
export function nodeInternalIPs(nodes: Iterable<Node>, nodeName?: string): string[] {
  const out = new Set<string>();
  for (const n of nodes) {
    if (nodeName !== undefined && n.metadata.name !== nodeName) continue;
    for (const a of n.status?.addresses ?? []) if (a.type === 'InternalIP' && isIPv4(a.address)) out.add(a.address);
  }
  return [...out].sort();
}
