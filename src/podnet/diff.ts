// From what the kernel has (read by ip.ts) to what the plan wants: the `ip` and `bridge` commands, as
// argument lists, in an order that never leaves a route pointing at a missing device. Only our own
// objects are ever changed: routes with our protocol inside the cluster's pod CIDR, and our VXLAN device.
// Pure.

import { cidrContains, normalizeCIDR } from '../util/ip.js';
import { ROUTE_PROTO, type PlannedRoute, type PlannedVxlan, type PodNetPlan } from './plan.js';

export interface KernelRoute {
  type?: string;
  metric?: number;
  dst: string;
  via?: string;
  dev?: string;
  onlink: boolean;
}

export interface KernelVxlan {
  vni?: number;
  port?: number;
  local?: string;
  link?: string;
  mtu?: number;
  mac?: string;
  up: boolean;
  addresses: string[];
}

export interface KernelState {
  /** Routes with our protocol (any destination: the diff keeps to the cluster's pod CIDR). */
  routes: KernelRoute[];
  vxlan?: KernelVxlan;
  neighbours: { ip: string; mac?: string; permanent: boolean }[];
  fdb: { mac: string; dst?: string }[];
}

export interface Command {
  tool: 'ip' | 'bridge';
  args: string[];
}

const ip = (...args: string[]): Command => ({ tool: 'ip', args });

function routeArgs(r: PlannedRoute): string[] {
  return ['route', 'replace', r.dst, 'via', r.via, 'dev', r.dev, ...(r.onlink ? ['onlink'] : []), 'proto', String(ROUTE_PROTO)];
}

function sameRoute(k: KernelRoute, r: PlannedRoute): boolean {
  return k.via === r.via && k.dev === r.dev && k.onlink === r.onlink;
}

function vxlanMatches(k: KernelVxlan, v: PlannedVxlan): boolean {
  return k.vni === v.vni && k.port === v.port && k.local === v.local && k.link === v.link;
}

/** The metric of the cluster-wide blackhole: below every real route to a share. */
export const BLACKHOLE_METRIC = 4242;

export function diffPodNetwork(have: KernelState, want: PodNetPlan, clusterCIDR: string, vxlanDev: string): Command[] {
  const out: Command[] = [];
  const inCluster = have.routes.filter((r) => r.dst !== 'default' && cidrContains(clusterCIDR, r.dst.split('/')[0]));
  const holes = inCluster.filter((r) => r.type === 'blackhole');
  const ours = inCluster.filter((r) => r.type !== 'blackhole');
  const hole = want.blackhole ? normalizeCIDR(want.blackhole) : undefined;
  if (hole && !holes.some((h) => normalizeCIDR(h.dst) === hole && h.metric === BLACKHOLE_METRIC)) {
    out.push(ip('route', 'replace', 'blackhole', hole, 'metric', String(BLACKHOLE_METRIC), 'proto', String(ROUTE_PROTO)));
  }
  for (const h of holes) {
    if (normalizeCIDR(h.dst) === hole && h.metric === BLACKHOLE_METRIC) continue;
    out.push(ip('route', 'del', 'blackhole', normalizeCIDR(h.dst), ...(h.metric !== undefined ? ['metric', String(h.metric)] : []), 'proto', String(ROUTE_PROTO)));
  }
  const wanted = new Map(want.routes.map((r) => [normalizeCIDR(r.dst), r]));
  // Routes that must go, first (a peer gone, or moved to another way of reaching it).
  for (const k of ours) {
    const dst = normalizeCIDR(k.dst.includes('/') ? k.dst : `${k.dst}/32`);
    if (!wanted.has(dst)) out.push(ip('route', 'del', dst, 'proto', String(ROUTE_PROTO)));
  }
  const v = want.vxlan;
  if (!v) {
    if (have.vxlan) out.push(ip('link', 'del', vxlanDev));
  } else {
    let k = have.vxlan;
    if (k && !vxlanMatches(k, v)) {
      out.push(ip('link', 'del', v.dev));
      k = undefined;
    }
    if (!k) {
      out.push(ip('link', 'add', v.dev, 'type', 'vxlan', 'id', String(v.vni), 'dstport', String(v.port), 'local', v.local, 'dev', v.link, 'nolearning'));
    }
    if (!k || k.mac !== v.mac || k.mtu !== v.mtu || !k.up) out.push(ip('link', 'set', v.dev, 'address', v.mac, 'mtu', String(v.mtu), 'up'));
    if (!k || !k.addresses.includes(v.address)) out.push(ip('addr', 'replace', v.address, 'dev', v.dev));
    const fresh = !k;
    const neigh = new Map(fresh ? [] : have.neighbours.map((n) => [n.ip, n]));
    for (const n of want.neighbours) {
      const h = neigh.get(n.ip);
      if (!h || h.mac !== n.mac || !h.permanent) out.push(ip('neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', v.dev, 'nud', 'permanent'));
      neigh.delete(n.ip);
    }
    for (const stale of neigh.values()) if (stale.permanent) out.push(ip('neigh', 'del', stale.ip, 'dev', v.dev));
    const fdb = new Map((fresh ? [] : have.fdb).filter((f) => f.dst).map((f) => [`${f.mac}`, f]));
    for (const f of want.fdb) {
      const h = fdb.get(f.mac);
      if (!h || h.dst !== f.dst) out.push({ tool: 'bridge', args: ['fdb', 'replace', f.mac, 'dev', v.dev, 'dst', f.dst, 'self', 'permanent'] });
      fdb.delete(f.mac);
    }
    for (const stale of fdb.values()) out.push({ tool: 'bridge', args: ['fdb', 'del', stale.mac, 'dev', v.dev, 'dst', stale.dst!, 'self'] });
  }
  const haveByDst = new Map(ours.map((k) => [normalizeCIDR(k.dst.includes('/') ? k.dst : `${k.dst}/32`), k]));
  for (const [dst, r] of wanted) {
    const k = haveByDst.get(dst);
    // A VXLAN device made just now has no routes through it yet, whatever the list said.
    if (k && sameRoute(k, r) && !(r.dev === vxlanDev && out.some((c) => c.args[0] === 'link' && c.args[1] === 'add'))) continue;
    out.push(ip(...routeArgs(r)));
  }
  return out;
}
