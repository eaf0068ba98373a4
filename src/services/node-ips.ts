// This host's addresses as kubelite uses them: the node's InternalIP (from its Node object when the
// agent registered one, else the address of the default route's interface) for LoadBalancer Services
// without a pool, and as the proxier's node addresses.

import fs from 'node:fs';
import os from 'node:os';
import type { Node } from '../api/types.js';
import { primaryIPv4 } from '../agent/node-status.js';

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
    for (const a of n.status?.addresses ?? []) if (a.type === 'InternalIP' && /^\d{1,3}(\.\d{1,3}){3}$/.test(a.address)) out.add(a.address);
  }
  return [...out].sort();
}
