// Node pod CIDRs (Kubernetes' node IPAM "range allocator"): every Node gets one share of the cluster's
// pod CIDR (a /24 by default) in its spec.podCIDR, which never changes once set. The server's own node
// keeps the first share, as a single-host kubelite always had it. Pure: the controller keeps the map
// of shares in use (rebuilt from the Nodes at start) and asks here what one Node should get.

import type { Node } from '../../api/types.js';
import { intToIp, ipToInt, parseCIDR } from '../../util/ip.js';

export interface NodeCIDRConfig {
  /** The cluster's pod CIDR (--pod-cidr). */
  clusterCIDR: string;
  /** Prefix length of one node's share (--node-cidr-mask-size); a cluster CIDR that is smaller gives one share, itself. */
  maskSize: number;
  /** The node that owns the first share (the server's own node), when it runs an agent. */
  firstShareFor?: string;
}

export const POD_CIDR_ERROR_ANNOTATION = 'kubelite.io/pod-cidr-error';

export function shareBits(cfg: NodeCIDRConfig): number {
  return Math.max(parseCIDR(cfg.clusterCIDR).bits, cfg.maskSize);
}

export function shareCount(cfg: NodeCIDRConfig): number {
  const { bits } = parseCIDR(cfg.clusterCIDR);
  return 2 ** (shareBits(cfg) - bits);
}

export function shareAt(cfg: NodeCIDRConfig, i: number): string {
  const { base } = parseCIDR(cfg.clusterCIDR);
  const bits = shareBits(cfg);
  return `${intToIp(base + i * 2 ** (32 - bits))}/${bits}`;
}

/** The index of `cidr` among the shares, or undefined when it is not exactly one of them. */
export function shareIndex(cfg: NodeCIDRConfig, cidr: string | undefined): number | undefined {
  if (!cidr) return undefined;
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m || Number(m[2]) !== shareBits(cfg)) return undefined;
  const { base, size } = parseCIDR(cfg.clusterCIDR);
  let ip: number;
  try {
    ip = ipToInt(m[1]);
  } catch {
    return undefined;
  }
  const off = ip - base;
  const step = 2 ** (32 - shareBits(cfg));
  if (off < 0 || off >= size || off % step !== 0) return undefined;
  return off / step;
}

export type NodeCIDRDecision =
  | { op: 'none' }
  | { op: 'assign'; cidr: string; index: number }
  | { op: 'exhausted'; message: string };

/**
 * What a Node's spec.podCIDR should be. `held` maps share index -> node name for every other node's
 * share. A node that has a podCIDR keeps it (even one outside the range: it was given by hand).
 */
export function planNodeCIDR(node: Node, held: ReadonlyMap<number, string>, cfg: NodeCIDRConfig): NodeCIDRDecision {
  if (node.spec?.podCIDR) return { op: 'none' };
  const name = node.metadata.name ?? '';
  const count = shareCount(cfg);
  const free = (i: number) => {
    const h = held.get(i);
    return h === undefined || h === name;
  };
  if (cfg.firstShareFor === name && free(0)) return { op: 'assign', cidr: shareAt(cfg, 0), index: 0 };
  // The first share waits for the server's own node while that node has not taken it.
  const reserved = cfg.firstShareFor !== undefined && cfg.firstShareFor !== name && free(0) ? 1 : 0;
  for (let i = reserved; i < count; i++) if (free(i)) return { op: 'assign', cidr: shareAt(cfg, i), index: i };
  return {
    op: 'exhausted',
    message: `the pod CIDR ${cfg.clusterCIDR} is exhausted: all ${count} of its /${shareBits(cfg)} node shares are held by other Nodes${reserved ? ' (the first one is kept for the server\'s own node)' : ''}; delete a Node that is gone (kubectl delete node NAME) or run the server with a larger --pod-cidr`,
  };
}

/** share index -> node name, from the Nodes that hold a share; nodes whose podCIDR is not a share are left out. */
export function heldShares(nodes: Iterable<Node>, cfg: NodeCIDRConfig): Map<number, string> {
  const out = new Map<number, string>();
  for (const n of nodes) {
    const i = shareIndex(cfg, n.spec?.podCIDR);
    if (i !== undefined && !out.has(i)) out.set(i, n.metadata.name ?? '');
  }
  return out;
}
