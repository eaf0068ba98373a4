// Server configuration and every host-level name derived from it. An `instance` tag lets several
// kubelite servers share one Docker host without touching each other's containers, chains, bridges or
// routes (integration tests run side by side this way); the default instance has no tag.

import os from 'node:os';

export type Component = 'agent' | 'scheduler' | 'controllers' | 'proxy' | 'dns' | 'ingress';
export const COMPONENTS: readonly Component[] = ['agent', 'scheduler', 'controllers', 'proxy', 'dns', 'ingress'];

export interface ServerConfig {
  dataDir: string;
  bindAddress: string;
  /** 0 picks a free port (tests); the kubeconfig names the real one. */
  apiPort: number;
  /** '' for the default instance; otherwise 1-6 of [a-z0-9]. */
  instance: string;
  nodeName: string;
  serviceCIDR: string;
  podCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  nodePortRange: [number, number];
  /** CIDR to allocate LoadBalancer addresses from; undefined: the host's own addresses (k3s ServiceLB style). */
  lbPool?: string;
  /** host:port or ip list; undefined: read /etc/resolv.conf */
  upstreamDNS?: string[];
  dnsTTL: number;
  /** node-cron expression for the periodic full resync */
  resyncSchedule: string;
  /** The Service data plane; undefined: nftables where `nft` works, else iptables (see src/netfilter/mode.ts). */
  proxyMode?: 'nftables' | 'iptables';
  ingressHttpPort: number;
  ingressHttpsPort: number;
  /** Address the ingress proxy listens on. */
  ingressBindAddress: string;
  disabled: Set<Component>;
  logLevel: string;
}

export function defaultConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const serviceCIDR = overrides.serviceCIDR ?? '10.96.0.0/12';
  return {
    dataDir: '/var/lib/kubelite',
    bindAddress: '127.0.0.1',
    apiPort: 6443,
    instance: '',
    nodeName: os.hostname().toLowerCase(),
    serviceCIDR,
    podCIDR: '10.244.0.0/16',
    clusterDNS: nthAddress(serviceCIDR, 10),
    clusterDomain: 'cluster.local',
    nodePortRange: [30000, 32767],
    dnsTTL: 5,
    resyncSchedule: '*/30 * * * * *',
    ingressHttpPort: 80,
    ingressHttpsPort: 443,
    ingressBindAddress: '0.0.0.0',
    disabled: new Set(),
    logLevel: 'info',
    ...overrides,
  };
}

export const INSTANCE_RE = /^[a-z0-9]{1,6}$/;

/** Host-level names owned by one kubelite instance. Interface names stay within Linux's 15 bytes, chain names within iptables' 28. */
export interface HostNames {
  /** Docker label every container we create carries, value = instance id. */
  instanceLabel: string;
  instanceValue: string;
  /** Docker bridge network the pods live on. */
  dockerNetwork: string;
  /** Linux bridge device of that network. */
  podBridge: string;
  /** Local device the service CIDR and LB pool are routed to. */
  serviceDevice: string;
  /** Prefix of top-level chains: `${chainPrefix}-SERVICES`. */
  chainPrefix: string;
  /** Prefix of per-service/per-endpoint chains: `${shortChainPrefix}-SVC-<hash>`. */
  shortChainPrefix: string;
  /** Name prefix of containers: `${containerPrefix}_<ns>_<pod>_<container>_<uid8>` */
  containerPrefix: string;
}

export function hostNames(cfg: Pick<ServerConfig, 'instance'>): HostNames {
  const i = cfg.instance;
  if (i && !INSTANCE_RE.test(i)) throw new Error(`--instance ${JSON.stringify(i)}: must be 1-6 characters of a-z and 0-9`);
  const tag = i ? `-${i}` : '';
  return {
    instanceLabel: 'io.kubelite.instance',
    instanceValue: i || 'default',
    dockerNetwork: `kubelite${tag}`,
    podBridge: `kl0${tag}`,
    serviceDevice: `klsvc${tag}`,
    chainPrefix: `KUBELITE${tag.toUpperCase()}`,
    shortChainPrefix: `KL${tag.toUpperCase()}`,
    containerPrefix: `k8s${i ? `-${i}` : ''}`,
  };
}

// ---------- small IPv4 helpers shared by config and allocators ----------

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 address ${JSON.stringify(ip)}`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCIDR(cidr: string): { base: number; bits: number; size: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: expected a.b.c.d/n`);
  const bits = Number(m[2]);
  if (bits > 32) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: prefix length above 32`);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (ipToInt(m[1]) & mask) >>> 0, bits, size: 2 ** (32 - bits) };
}

export function cidrContains(cidr: string, ip: string): boolean {
  const { base, size } = parseCIDR(cidr);
  let n: number;
  try {
    n = ipToInt(ip);
  } catch {
    return false;
  }
  return n >= base && n < base + size;
}

/** The n-th address of a CIDR (0 = network address). */
export function nthAddress(cidr: string, n: number): string {
  const { base, size } = parseCIDR(cidr);
  if (n < 0 || n >= size) throw new Error(`address #${n} is outside ${cidr}`);
  return intToIp(base + n);
}

/** The pod /24 this single node uses out of the pod CIDR (the whole CIDR if it is already /24 or smaller). */
export function nodePodCIDR(podCIDR: string): string {
  const { base, bits } = parseCIDR(podCIDR);
  return `${intToIp(base)}/${Math.max(bits, 24)}`;
}
