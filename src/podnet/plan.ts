// The pod network across hosts, decided. Every node has its share of the pod CIDR on its own pod
// bridge; to reach another node's share this node routes it:
//   host-gw: `ip route DST via PEER-IP dev LINK` when the peer's address is on one of our links (no
//            encapsulation: flannel's host-gw backend);
//   vxlan:   through a VXLAN device (VNI 1, UDP 8472, MTU 50 below its link), flannel's layout: the
//            device holds this node's share's network address as a /32, each peer's share is routed
//            `via <peer share .0> dev VXLAN onlink`, with a permanent neighbour entry for that
//            address and an FDB entry sending the peer's VTEP MAC to the peer's address.
// The VTEP MAC is derived from the node's address, so no node has to publish it. Pure: the adapter
// (ip.ts) reads what the kernel has and applies the difference (diff.ts).

import type { Node } from '../api/types.js';
import type { PodNetworkMode } from '../config.js';
import { cidrContains, intToIp, ipToInt, isIPv4, parseCIDR } from '../util/ip.js';

export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
/** IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD = 50;
/** The route protocol our routes carry, so they are found again (and nobody else's is touched). */
export const ROUTE_PROTO = 111;

export interface Link {
  dev: string;
  /** Address with prefix, e.g. 10.64.255.10/24. */
  cidr: string;
  mtu: number;
}

export interface SelfNode {
  name: string;
  ip: string;
  podCIDR: string;
  /** This host's IPv4 links and their addresses. */
  links: Link[];
}

export interface Peer {
  name: string;
  ip: string;
  podCIDR: string;
}

export interface PlannedRoute {
  dst: string;
  via: string;
  dev: string;
  onlink: boolean;
}

export interface PlannedVxlan {
  dev: string;
  vni: number;
  port: number;
  /** The underlying link and our address on it. */
  link: string;
  local: string;
  mtu: number;
  mac: string;
  /** This node's share's network address, /32. */
  address: string;
}

export interface PodNetPlan {
  /** The whole cluster pod CIDR, blackholed behind every more specific route (nothing for a Pod address ever takes the uplink). */
  blackhole?: string;
  routes: PlannedRoute[];
  vxlan?: PlannedVxlan;
  /** vtep address -> MAC (neighbour entries on the VXLAN device). */
  neighbours: { ip: string; mac: string }[];
  /** VTEP MAC -> peer address (FDB entries on the VXLAN device). */
  fdb: { mac: string; dst: string }[];
  /** Peers that cannot be routed, with why. */
  problems: { node: string; message: string }[];
}

/** A locally administered unicast MAC from a node's IPv4 address (0e:6b:a.b.c.d). Pure. */
export function vtepMAC(ip: string): string {
  const n = ipToInt(ip);
  return ['0e', '6b', ...[24, 16, 8, 0].map((s) => ((n >>> s) & 255).toString(16).padStart(2, '0'))].join(':');
}

/** The network address of a share (its VTEP address in VXLAN mode). */
export function networkAddress(cidr: string): string {
  return intToIp(parseCIDR(cidr).base);
}

/** A Node's InternalIP and pod CIDR, or why it cannot be a peer. Pure. */
export function peerOf(node: Node): Peer | { name: string; problem: string } {
  const name = node.metadata.name ?? '';
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const podCIDR = node.spec?.podCIDR;
  if (!podCIDR) return { name, problem: 'it has no pod CIDR yet' };
  if (!ip || !isIPv4(ip)) return { name, problem: 'it has no IPv4 InternalIP address' };
  return { name, ip, podCIDR };
}

/** The link whose subnet holds `ip` (the peer is one hop away there), if any. */
export function sharedLink(links: readonly Link[], ip: string): Link | undefined {
  return links.find((l) => {
    const [addr, bits] = l.cidr.split('/');
    if (Number(bits) >= 32 || addr === ip) return false;
    return cidrContains(`${addr}/${bits}`, ip);
  });
}

/** `self.podCIDR` may be empty on a host without an agent (routes only, no VXLAN of its own). */
export function planPodNetwork(self: SelfNode, peers: readonly Peer[], mode: PodNetworkMode, vxlanDev: string, clusterCIDR?: string): PodNetPlan {
  const plan: PodNetPlan = { routes: [], neighbours: [], fdb: [], problems: [], ...(clusterCIDR ? { blackhole: clusterCIDR } : {}) };
  const own = self.links.find((l) => l.cidr.split('/')[0] === self.ip);
  const needVxlan: Peer[] = [];
  for (const p of [...peers].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (p.name === self.name) continue;
    if (p.podCIDR === self.podCIDR) {
      plan.problems.push({ node: p.name, message: `its pod CIDR ${p.podCIDR} is this node's too` });
      continue;
    }
    if (p.ip === self.ip) {
      plan.problems.push({ node: p.name, message: `its address ${p.ip} is this node's too` });
      continue;
    }
    const link = sharedLink(self.links, p.ip);
    if (mode === 'host-gw' || (mode === 'auto' && link)) {
      if (!link) {
        plan.problems.push({ node: p.name, message: `--pod-network host-gw: its address ${p.ip} is on none of this host's links (use --pod-network vxlan or auto)` });
        continue;
      }
      plan.routes.push({ dst: p.podCIDR, via: p.ip, dev: link.dev, onlink: false });
      continue;
    }
    needVxlan.push(p);
  }
  if (needVxlan.length) {
    if (!own || !self.podCIDR) {
      if (!self.podCIDR) {
        for (const p of needVxlan) plan.problems.push({ node: p.name, message: 'VXLAN needs a pod CIDR of this node (this host runs no agent)' });
        return plan;
      }
      for (const p of needVxlan) plan.problems.push({ node: p.name, message: `VXLAN needs this node's address ${self.ip} on one of its links` });
      return plan;
    }
    plan.vxlan = {
      dev: vxlanDev,
      vni: VXLAN_VNI,
      port: VXLAN_PORT,
      link: own.dev,
      local: self.ip,
      mtu: own.mtu - VXLAN_OVERHEAD,
      mac: vtepMAC(self.ip),
      address: `${networkAddress(self.podCIDR)}/32`,
    };
    for (const p of needVxlan) {
      const vtep = networkAddress(p.podCIDR);
      const mac = vtepMAC(p.ip);
      plan.routes.push({ dst: p.podCIDR, via: vtep, dev: vxlanDev, onlink: true });
      plan.neighbours.push({ ip: vtep, mac });
      plan.fdb.push({ mac, dst: p.ip });
    }
  }
  return plan;
}
