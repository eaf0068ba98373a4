// Host routes of a cluster: its pod CIDR, service CIDR and LoadBalancer pool via the server node's
// address on the cluster's bridge, so the host reaches ClusterIPs, LoadBalancer IPs and Pods directly
// and no packet to them ever takes the uplink. Pure: plans `ip` argument lists from `ip -j route`.

import { cidrContains, isIPv4, normalizeCIDR } from '../util/ip.js';
import type { ClusterCIDRs } from './cidrs.js';

export interface HostRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

export interface ClusterRoutes {
  cidrs: ClusterCIDRs;
  /** The server node's address on the cluster network. */
  via: string;
  bridge: string;
}

/** `ip -j route show` output -> routes (`default` and host routes kept as they are). */
export function parseIpRoutes(json: string): HostRoute[] {
  const text = json.trim();
  if (!text) return [];
  const rows = JSON.parse(text) as Array<{ dst?: string; gateway?: string; dev?: string; protocol?: string }>;
  return rows.map((r) => ({
    dst: r.dst === 'default' || !r.dst ? 'default' : r.dst.includes('/') ? r.dst : `${r.dst}/32`,
    gateway: r.gateway,
    dev: r.dev,
    protocol: r.protocol,
  }));
}

/** The routed ranges (the node network is the bridge's own, connected). */
export function clusterRouteDsts(c: ClusterCIDRs): string[] {
  return [c.podCIDR, c.serviceCIDR, c.lbPool].map(normalizeCIDR);
}

/** `ip route replace` argument lists for the cluster's routes that are missing or point elsewhere. */
export function planRouteAdds(current: readonly HostRoute[], r: ClusterRoutes): string[][] {
  if (!isIPv4(r.via)) throw new Error(`route gateway ${JSON.stringify(r.via)} is not an IPv4 address`);
  const out: string[][] = [];
  for (const dst of clusterRouteDsts(r.cidrs)) {
    const have = current.find((h) => h.dst === dst);
    if (have && have.gateway === r.via && have.dev === r.bridge) continue;
    if (have && have.dev !== r.bridge) throw new Error(`the host already routes ${dst} via ${have.dev ?? have.gateway ?? '?'}: pick other ranges (--pod-cidr, --service-cidr, --lb-pool)`);
    out.push(['route', 'replace', dst, 'via', r.via, 'dev', r.bridge]);
  }
  return out;
}

/**
 * `ip route del` argument lists for the cluster's routes: only a route to one of its ranges that goes
 * through its own bridge, so a route someone else made to the same range is never touched.
 */
export function planRouteDeletes(current: readonly HostRoute[], cidrs: ClusterCIDRs, bridge: string): string[][] {
  const dsts = new Set(clusterRouteDsts(cidrs));
  return current.filter((h) => dsts.has(h.dst) && h.dev === bridge).map((h) => ['route', 'del', h.dst, 'dev', bridge]);
}

/** Ranges the host routes already (other than the default route), as taken ranges for the planner. */
export function routedRanges(current: readonly HostRoute[]): { cidr: string; why: string }[] {
  return current.filter((h) => h.dst !== 'default').map((h) => ({ cidr: h.dst, why: `a route on this host (dev ${h.dev ?? '?'})` }));
}

/** `ip -j route get IP` output -> the device and gateway the kernel would use. */
export function parseRouteGet(json: string): { dev?: string; gateway?: string } {
  const rows = JSON.parse(json) as Array<{ dev?: string; gateway?: string }>;
  return { dev: rows[0]?.dev, gateway: rows[0]?.gateway };
}

/** One address in each of the cluster's ranges: what `ip route get` is asked about. */
export function probeAddresses(c: ClusterCIDRs): string[] {
  return clusterRouteDsts(c).map((cidr) => {
    const [ip] = cidr.split('/');
    const parts = ip.split('.').map(Number);
    parts[3] += 1;
    const probe = parts.join('.');
    if (!cidrContains(cidr, probe)) throw new Error(`no probe address in ${cidr}`);
    return probe;
  });
}
