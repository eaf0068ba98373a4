// Address ranges of a cluster: pod CIDR, service CIDR and LoadBalancer pool. Pure. They must differ from
// the host kubelite's, from the integration tests' ranges, from every other cluster's and from every
// network the host already routes, so all of them can be routed from the host at the same time.
//
// Each cluster takes one /16 out of 10.64.0.0-10.95.255.255 (the first free one):
//   pod CIDR  X.0.0/17   (a /24 per node: room for 128 nodes)
//   services  X.128.0/18 (16,382 ClusterIPs; DNS on the 10th address)
//   LB pool   X.192.0/24
//   nodes     X.255.0/24 (the cluster's Docker network; the server node is .2)
// Any of the three can be given instead; a given one must not overlap anything in use (the reserved
// ranges of the host kubelite's defaults and the tests only keep the automatic pick away).

import { cidrsOverlap, intToIp, ipToInt, normalizeCIDR, nthAddress, parseCIDR } from '../util/ip.js';

export interface ClusterCIDRs {
  podCIDR: string;
  serviceCIDR: string;
  lbPool: string;
  /** The cluster's Docker network: node containers get fixed addresses on it. */
  nodeCIDR: string;
}

export interface TakenRange {
  cidr: string;
  /** Whose it is, for the error message. */
  why: string;
}

export const RESERVED_RANGES: readonly TakenRange[] = [
  { cidr: '10.96.0.0/12', why: "the host kubelite's default service CIDR" },
  { cidr: '10.244.0.0/16', why: "the host kubelite's default pod CIDR" },
  { cidr: '10.200.0.0/15', why: 'the integration tests\' pod and service CIDRs' },
  { cidr: '10.202.0.0/16', why: 'the integration tests\' LoadBalancer pools' },
  { cidr: '10.250.0.0/15', why: 'the integration tests\' addresses' },
  { cidr: '10.252.0.0/16', why: 'the integration tests\' addresses' },
];

/** The first /16 blocks a cluster may take, in order. */
export function defaultBlocks(): string[] {
  const out: string[] = [];
  for (let second = 64; second <= 95; second++) out.push(`10.${second}.0.0/16`);
  return out;
}

export function layoutOfBlock(block: string): ClusterCIDRs {
  const { base, bits } = parseCIDR(block);
  if (bits !== 16) throw new Error(`block ${block}: expected a /16`);
  return {
    podCIDR: `${intToIp(base)}/17`,
    serviceCIDR: `${intToIp(base + 128 * 256)}/18`,
    lbPool: `${intToIp(base + 192 * 256)}/24`,
    nodeCIDR: `${intToIp(base + 255 * 256)}/24`,
  };
}

const LIMITS: Record<keyof ClusterCIDRs, { min: number; max: number; flag: string }> = {
  podCIDR: { min: 8, max: 24, flag: '--pod-cidr' },
  serviceCIDR: { min: 12, max: 28, flag: '--service-cidr' },
  lbPool: { min: 8, max: 30, flag: '--lb-pool' },
  nodeCIDR: { min: 16, max: 28, flag: '--node-cidr' },
};

function checkShape(key: keyof ClusterCIDRs, cidr: string): string {
  const { flag, min, max } = LIMITS[key];
  let bits: number;
  try {
    bits = parseCIDR(cidr).bits;
  } catch (err) {
    throw new Error(`${flag}: ${(err as Error).message}`);
  }
  if (bits < min || bits > max) throw new Error(`${flag} ${cidr}: the prefix length must be between /${min} and /${max}`);
  const first = ipToInt(cidr.split('/')[0]) >>> 24;
  if (first === 0 || first === 127 || first >= 224) throw new Error(`${flag} ${cidr}: not a unicast range`);
  return normalizeCIDR(cidr);
}

function conflict(cidr: string, taken: readonly TakenRange[]): TakenRange | undefined {
  return taken.find((t) => cidrsOverlap(cidr, t.cidr));
}

/**
 * The cluster's ranges: the given ones (checked), the rest from the first block that overlaps nothing
 * taken and none of the given ones.
 */
export function planClusterCIDRs(taken: readonly TakenRange[], given: Partial<ClusterCIDRs> = {}, blocks: readonly string[] = defaultBlocks()): ClusterCIDRs {
  const fixed: Partial<ClusterCIDRs> = {};
  for (const key of Object.keys(LIMITS) as (keyof ClusterCIDRs)[]) {
    const v = given[key];
    if (v === undefined) continue;
    const cidr = checkShape(key, v);
    // given ranges are checked against what is really in use; the reserved ones only steer the pick
    const c = conflict(cidr, taken);
    if (c) throw new Error(`${LIMITS[key].flag} ${cidr} overlaps ${c.cidr} (${c.why})`);
    fixed[key] = cidr;
  }
  const keys = Object.keys(fixed) as (keyof ClusterCIDRs)[];
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) {
      if (cidrsOverlap(fixed[keys[i]]!, fixed[keys[j]]!)) throw new Error(`${LIMITS[keys[i]].flag} ${fixed[keys[i]]} overlaps ${LIMITS[keys[j]].flag} ${fixed[keys[j]]}`);
    }
  }
  if (keys.length === Object.keys(LIMITS).length) return fixed as ClusterCIDRs;
  const mine = keys.map((k) => ({ cidr: fixed[k]!, why: `this cluster's ${LIMITS[k].flag}` }));
  for (const block of blocks) {
    if (conflict(block, [...RESERVED_RANGES, ...taken, ...mine])) continue;
    return { ...layoutOfBlock(block), ...fixed };
  }
  throw new Error(`no free address block left for a cluster's ranges (tried ${blocks[0]} to ${blocks[blocks.length - 1]}): delete a cluster or pass --pod-cidr, --service-cidr, --lb-pool and --node-cidr`);
}

/** The cluster DNS address: the 10th of the service CIDR, as for the host kubelite. */
export function clusterDNS(serviceCIDR: string): string {
  return nthAddress(serviceCIDR, 10);
}
