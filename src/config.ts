// Server configuration and every host-level name derived from it. An `instance` tag lets several
// kubelite servers share one Docker host without touching each other's containers, chains, bridges or
// routes (integration tests run side by side this way); the default instance has no tag.

import os from 'node:os';
import { intToIp, nthAddress, parseCIDR } from './util/ip.js';

export type Component = 'agent' | 'scheduler' | 'controllers' | 'proxy' | 'dns' | 'ingress' | 'ui';
export const COMPONENTS: readonly Component[] = ['agent', 'scheduler', 'controllers', 'proxy', 'dns', 'ingress', 'ui'];

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
  /** CIDRs Services may name in spec.externalIPs (`--allowed-external-ips`); empty: none, as DenyServiceExternalIPs. */
  allowedExternalIPs?: string[];
  /** Open watches one client (remote address + credential) may hold (`--max-watches-per-client`, default 5000). */
  maxWatchesPerClient?: number;
  /** Read the API bearer token from this file instead of the data dir's generated one (a node container given its token). */
  tokenFile?: string;
  // --- many hosts (see src/podnet, src/controllers/node-*.ts, `kubelite agent`) ---
  /** How Pods on different nodes reach each other: host routes where nodes share a link, VXLAN otherwise ('auto'), or one of them always. */
  podNetwork: PodNetworkMode;
  /** Prefix length of each Node's share of the pod CIDR (Kubernetes' --node-cidr-mask-size). */
  nodeCIDRMaskSize: number;
  /** A node whose Lease (or status) is not seen to change for this long is unreachable (Ready=Unknown). */
  nodeMonitorGracePeriodSeconds: number;
  /** tolerationSeconds of the not-ready / unreachable NoExecute tolerations admission adds to every Pod. */
  defaultNotReadyTolerationSeconds: number;
  defaultUnreachableTolerationSeconds: number;
  /** How often an agent renews its node's Lease. */
  nodeLeaseRenewIntervalMs: number;
  /** This node's address (its Node's InternalIP); undefined: the address of the default route's interface. */
  nodeIP?: string;
  /** Port of the kubelet endpoint a joined agent serves (logs, exec, attach, port-forward, images). */
  kubeletPort: number;
  /** This node's share of the pod CIDR, set by the agent once the server assigned it (the proxier and DNS read it). */
  nodePodCIDR?: string;
  /** How often each agent samples its containers' usage for metrics.k8s.io (metrics-server's --metric-resolution); default 15. */
  metricResolutionSeconds?: number;
  /** How often HorizontalPodAutoscalers are reconciled (kube-controller-manager's flag of that name); default 15. */
  hpaSyncPeriodSeconds?: number;
  /** The scale-down stabilisation window of HPAs whose behavior sets none; default 300. */
  hpaDownscaleStabilizationSeconds?: number;
  /** `--store etcd://...`: objects live in etcd (several servers may share it); undefined: LevelDB under dataDir. */
  etcd?: EtcdStoreConfig;
  /** With etcd: who runs the once-per-cluster work is elected with a Lease (--leader-elect-* flags, in ms). */
  leaderElection?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
}

/** Where and how to reach etcd (kube-apiserver's --etcd-* flags). */
export interface EtcdStoreConfig {
  /** `etcd://HOST:PORT[,HOST:PORT...]` */
  url: string;
  /** Key prefix (default /kubelite). */
  prefix: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Seconds between compactions of etcd's history (0: never). */
  compactionIntervalSeconds: number;
}

/** This node's pod CIDR: the one the server assigned, else the first share (the server's own node's). */
export function thisNodePodCIDR(c: Pick<ServerConfig, 'nodePodCIDR' | 'podCIDR' | 'nodeCIDRMaskSize'>): string {
  return c.nodePodCIDR ?? nodePodCIDR(c.podCIDR, c.nodeCIDRMaskSize);
}

export type PodNetworkMode = 'auto' | 'host-gw' | 'vxlan';
export const POD_NETWORK_MODES: readonly PodNetworkMode[] = ['auto', 'host-gw', 'vxlan'];

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
    podNetwork: 'auto',
    nodeCIDRMaskSize: 24,
    nodeMonitorGracePeriodSeconds: 6,
    defaultNotReadyTolerationSeconds: 3,
    defaultUnreachableTolerationSeconds: 3,
    nodeLeaseRenewIntervalMs: 1000,
    kubeletPort: 10250,
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
  /** The VXLAN device joining this node's pod network to nodes it shares no link with. */
  vxlanDevice: string;
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
    vxlanDevice: `klvx${tag}`,
  };
}

/** The first node share of the pod CIDR (the whole CIDR if it is already that small): the server's own node's. */
export function nodePodCIDR(podCIDR: string, maskSize = 24): string {
  const { base, bits } = parseCIDR(podCIDR);
  return `${intToIp(base)}/${Math.max(bits, maskSize)}`;
}
