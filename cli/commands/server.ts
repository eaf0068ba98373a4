// `kubelite server`: the whole control plane and this host's agent in one process.

import type { Command } from 'commander';
import { COMPONENTS, defaultConfig, type Component as ComponentName, type ServerConfig } from '../../src/config.js';
import { startServer } from '../../src/main/server.js';
import { defaultComponents } from '../../src/main/components.js';
import { createLogger } from '../../src/util/log.js';
import { CliError, run } from '../context.js';
import { cidrContains, isIPv4, parseCIDR } from '../../src/util/ip.js';
import { POD_NETWORK_MODES, type PodNetworkMode } from '../../src/config.js';
import { normalizePrefix, parseEtcdURL } from '../../src/store/etcd-config.js';
import { checkTimings } from '../../src/leader/lease.js';

interface ServerFlags {
  dataDir: string;
  bindAddress: string;
  apiPort: string;
  instance?: string;
  nodeName?: string;
  serviceCidr: string;
  podCidr: string;
  clusterDns?: string;
  clusterDomain: string;
  serviceNodePortRange: string;
  lbPool?: string;
  upstreamDns?: string[];
  dnsTtl: string;
  resyncPeriod: string;
  proxyMode?: string;
  ingressHttpPort: string;
  ingressHttpsPort: string;
  ingressBindAddress: string;
  disable?: string[];
  logLevel: string;
  allowedExternalIps?: string[];
  maxWatchesPerClient: string;
  tokenFile?: string;
  podNetwork: string;
  nodeCidrMaskSize: string;
  nodeMonitorGracePeriod: string;
  defaultNotReadyTolerationSeconds: string;
  defaultUnreachableTolerationSeconds: string;
  nodeIp?: string;
  metricResolution: string;
  horizontalPodAutoscalerSyncPeriod: string;
  horizontalPodAutoscalerDownscaleStabilization: string;
  store?: string;
  etcdPrefix: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  etcdCompactionInterval: string;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
}

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`error: --${name} ${JSON.stringify(v)}: must be an integer between ${min} and ${max}`);
  return n;
}

function cidr(name: string, v: string): string {
  try {
    parseCIDR(v);
  } catch (err) {
    throw new CliError(`error: --${name}: ${(err as Error).message}`);
  }
  return v;
}

function etcdFromFlags(f: ServerFlags): NonNullable<ServerConfig['etcd']> {
  const tls = { caFile: f.etcdCafile, certFile: f.etcdCertfile, keyFile: f.etcdKeyfile };
  try {
    parseEtcdURL(f.store!, tls);
    return { url: f.store!, prefix: normalizePrefix(f.etcdPrefix), ...tls, compactionIntervalSeconds: int('etcd-compaction-interval', f.etcdCompactionInterval, 0, 86_400) };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`error: ${(err as Error).message}`);
  }
}

function seconds(name: string, v: string): number {
  const n = Number(v.replace(/s$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new CliError(`error: --${name} ${JSON.stringify(v)}: must be a number of seconds above 0 (e.g. 3 or 0.5)`);
  return Math.round(n * 1000);
}

function leaderElectionFromFlags(f: ServerFlags): NonNullable<ServerConfig['leaderElection']> {
  const t = {
    leaseDurationMs: seconds('leader-elect-lease-duration', f.leaderElectLeaseDuration),
    renewDeadlineMs: seconds('leader-elect-renew-deadline', f.leaderElectRenewDeadline),
    retryPeriodMs: seconds('leader-elect-retry-period', f.leaderElectRetryPeriod),
  };
  const bad = checkTimings(t);
  if (bad) throw new CliError(`error: --leader-elect-*: ${bad}`);
  return t;
}

export function configFromFlags(f: ServerFlags): ServerConfig {
  const serviceCIDR = cidr('service-cidr', f.serviceCidr);
  const range = /^(\d+)-(\d+)$/.exec(f.serviceNodePortRange);
  if (!range || Number(range[1]) > Number(range[2]) || Number(range[1]) < 1 || Number(range[2]) > 65535) {
    throw new CliError(`error: --service-node-port-range ${JSON.stringify(f.serviceNodePortRange)}: expected FIRST-LAST, e.g. 30000-32767`);
  }
  const disabled = new Set<ComponentName>();
  for (const d of (f.disable ?? []).flatMap((x) => x.split(',')).map((s) => s.trim()).filter(Boolean)) {
    if (!COMPONENTS.includes(d as ComponentName)) throw new CliError(`error: --disable ${d}: unknown component (one of ${COMPONENTS.join(', ')})`);
    disabled.add(d as ComponentName);
  }
  if (f.proxyMode !== undefined && f.proxyMode !== 'nftables' && f.proxyMode !== 'iptables') {
    throw new CliError(`error: --proxy-mode ${JSON.stringify(f.proxyMode)}: expected nftables or iptables`);
  }
  const cfg = defaultConfig({
    dataDir: f.dataDir,
    bindAddress: f.bindAddress,
    apiPort: int('api-port', f.apiPort, 0, 65535),
    instance: f.instance ?? '',
    ...(f.nodeName ? { nodeName: f.nodeName } : {}),
    serviceCIDR,
    podCIDR: cidr('pod-cidr', f.podCidr),
    clusterDomain: f.clusterDomain.replace(/\.$/, ''),
    nodePortRange: [Number(range[1]), Number(range[2])],
    lbPool: f.lbPool ? cidr('lb-pool', f.lbPool) : undefined,
    upstreamDNS: f.upstreamDns?.flatMap((x) => x.split(',')).filter(Boolean),
    dnsTTL: int('dns-ttl', f.dnsTtl, 0, 3600),
    resyncSchedule: `*/${int('resync-period', f.resyncPeriod, 1, 59)} * * * * *`,
    ...(f.proxyMode ? { proxyMode: f.proxyMode as 'nftables' | 'iptables' } : {}),
    ingressHttpPort: int('ingress-http-port', f.ingressHttpPort, 0, 65535),
    ingressHttpsPort: int('ingress-https-port', f.ingressHttpsPort, 0, 65535),
    ingressBindAddress: f.ingressBindAddress,
    disabled,
    logLevel: f.logLevel,
    maxWatchesPerClient: int('max-watches-per-client', f.maxWatchesPerClient, 1, 1_000_000),
    allowedExternalIPs: (f.allowedExternalIps ?? []).flatMap((x) => x.split(',')).map((s) => s.trim()).filter(Boolean).map((c) => cidr('allowed-external-ips', c)),
    tokenFile: f.tokenFile,
    ...multiHostFlags(f),
    metricResolutionSeconds: int('metric-resolution', f.metricResolution ?? '15', 1, 300),
    hpaSyncPeriodSeconds: int('horizontal-pod-autoscaler-sync-period', f.horizontalPodAutoscalerSyncPeriod ?? '15', 1, 300),
    hpaDownscaleStabilizationSeconds: int('horizontal-pod-autoscaler-downscale-stabilization', f.horizontalPodAutoscalerDownscaleStabilization ?? '300', 0, 3600),
  });
  const mask = cfg.nodeCIDRMaskSize;
  if (mask < parseCIDR(cfg.podCIDR).bits) throw new CliError(`error: --node-cidr-mask-size ${mask} is shorter than --pod-cidr ${cfg.podCIDR}'s prefix: a node's share must fit in the pod CIDR`);
  if (f.clusterDns) cfg.clusterDNS = f.clusterDns;
  if (f.store) {
    cfg.etcd = etcdFromFlags(f);
    cfg.leaderElection = leaderElectionFromFlags(f);
  }
  if (!cidrContains(cfg.serviceCIDR, cfg.clusterDNS)) throw new CliError(`error: --cluster-dns ${cfg.clusterDNS} is outside --service-cidr ${cfg.serviceCIDR}`);
  return cfg;
}

/** The flags `kubelite server` and `kubelite agent` share for many hosts. */
export function podNetworkFlag(v: string): PodNetworkMode {
  if (!POD_NETWORK_MODES.includes(v as PodNetworkMode)) throw new CliError(`error: --pod-network ${JSON.stringify(v)}: one of ${POD_NETWORK_MODES.join(', ')}`);
  return v as PodNetworkMode;
}

export function nodeIPFlag(v: string | undefined): string | undefined {
  if (v !== undefined && !isIPv4(v)) throw new CliError(`error: --node-ip ${JSON.stringify(v)}: expected an IPv4 address of this host`);
  return v;
}

function multiHostFlags(f: ServerFlags): Partial<ServerConfig> {
  return {
    podNetwork: podNetworkFlag(f.podNetwork),
    nodeCIDRMaskSize: int('node-cidr-mask-size', f.nodeCidrMaskSize, 8, 30),
    nodeMonitorGracePeriodSeconds: int('node-monitor-grace-period', f.nodeMonitorGracePeriod.replace(/s$/, ''), 2, 3600),
    defaultNotReadyTolerationSeconds: int('default-not-ready-toleration-seconds', f.defaultNotReadyTolerationSeconds, 0, 86400),
    defaultUnreachableTolerationSeconds: int('default-unreachable-toleration-seconds', f.defaultUnreachableTolerationSeconds, 0, 86400),
    ...(f.nodeIp ? { nodeIP: nodeIPFlag(f.nodeIp) } : {}),
  };
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('Run the control plane and this host\'s agent (API on https://127.0.0.1:6443 by default)')
    .option('--data-dir <dir>', 'where state, PKI, token and kubeconfig live', '/var/lib/kubelite')
    .option('--bind-address <ip>', 'API listen address', '127.0.0.1')
    .option('--api-port <port>', 'API port (0: any free port)', '6443')
    .option('--instance <id>', 'run beside other kubelite servers on this host: tags containers, chains and devices (1-6 of a-z0-9)')
    .option('--node-name <name>', 'this node\'s name (default: hostname)')
    .option('--service-cidr <cidr>', 'ClusterIP range', '10.96.0.0/12')
    .option('--pod-cidr <cidr>', 'Pod address range', '10.244.0.0/16')
    .option('--cluster-dns <ip>', 'cluster DNS Service IP (default: 10th address of the service CIDR)')
    .option('--cluster-domain <domain>', 'cluster domain', 'cluster.local')
    .option('--service-node-port-range <range>', 'NodePort range', '30000-32767')
    .option('--lb-pool <cidr>', 'allocate LoadBalancer IPs from this range (default: the host\'s own addresses)')
    .option('--upstream-dns <addr...>', 'resolvers for names outside the cluster (default: /etc/resolv.conf)')
    .option('--dns-ttl <seconds>', 'TTL of cluster DNS answers', '5')
    .option('--resync-period <seconds>', 'full data-plane resync period', '30')
    .option('--proxy-mode <mode>', 'Service data plane: nftables or iptables (default: nftables where nft works, else iptables)')
    .option('--ingress-http-port <port>', 'ingress HTTP port', '80')
    .option('--ingress-https-port <port>', 'ingress HTTPS port', '443')
    .option('--ingress-bind-address <ip>', 'address the ingress listens on', '0.0.0.0')
    .option('--disable <components...>', `turn components off: ${COMPONENTS.join(', ')}`)
    .option('--allowed-external-ips <cidrs...>', 'CIDRs Services may use in spec.externalIPs (default: none, as Kubernetes\' DenyServiceExternalIPs)')
    .option('--max-watches-per-client <n>', 'open watches one client (address + credential) may hold; more get 429', '5000')
    .option('--log-level <level>', 'trace | debug | info | warn | error', 'info')
    .option('--metric-resolution <seconds>', 'how often agents sample container usage for kubectl top and autoscaling', '15')
    .option('--horizontal-pod-autoscaler-sync-period <seconds>', 'how often HorizontalPodAutoscalers are reconciled', '15')
    .option('--horizontal-pod-autoscaler-downscale-stabilization <seconds>', 'scale-down stabilisation window of HPAs whose behavior sets none', '300')
    .option('--token-file <file>', 'use the API bearer token in this file (at least 16 characters) instead of a generated one')
    .option('--pod-network <mode>', 'how Pods on different nodes reach each other: auto (host routes where nodes share a link, else VXLAN), host-gw, vxlan', 'auto')
    .option('--node-cidr-mask-size <bits>', 'prefix length of each node\'s share of the pod CIDR', '24')
    .option('--node-ip <ip>', 'this node\'s address (default: the address of the default route\'s interface)')
    .option('--node-monitor-grace-period <seconds>', 'a node not heard from for this long is unreachable (Ready=Unknown)', '6')
    .option('--default-not-ready-toleration-seconds <seconds>', 'how long Pods stay on a not-ready node before they are evicted', '3')
    .option('--default-unreachable-toleration-seconds <seconds>', 'how long Pods stay on an unreachable node before they are evicted', '3')
    .option('--store <url>', 'keep objects in etcd: etcd://HOST:PORT[,HOST:PORT...] (default: LevelDB under --data-dir); several servers may share one')
    .option('--etcd-prefix <prefix>', 'etcd key prefix for this cluster', '/kubelite')
    .option('--etcd-cafile <file>', 'CA bundle that signs the etcd members\' certificates (turns TLS on)')
    .option('--etcd-certfile <file>', 'client certificate for etcd')
    .option('--etcd-keyfile <file>', 'client key for etcd')
    .option('--etcd-compaction-interval <seconds>', 'compact etcd\'s history this often (0: never)', '300')
    .option('--leader-elect-lease-duration <seconds>', 'with --store etcd: how long followers wait for a silent leader before taking over', '3')
    .option('--leader-elect-renew-deadline <seconds>', 'with --store etcd: how long a leader that cannot renew keeps leading', '2')
    .option('--leader-elect-retry-period <seconds>', 'with --store etcd: how often servers try to acquire or renew the leader Lease', '0.5')
    .action((flags: ServerFlags) =>
      run(async () => {
        const config = configFromFlags(flags);
        const logger = createLogger(config.logLevel);
        const components: Component[] = defaultComponents(config);
        let server: Awaited<ReturnType<typeof startServer>>;
        try {
          server = await startServer(config, components, logger);
        } catch (err) {
          throw new CliError(`error: cannot start kubelite server: ${(err as Error).message}`);
        }
        process.stdout.write(`kubelite server listening on ${server.url}\nkubeconfig: ${server.kubeconfigPath}  (export KUBECONFIG=${server.kubeconfigPath})\n`);
        const local = config.bindAddress.startsWith('127.') ? '   (the API listens on loopback only: start the server with --bind-address 0.0.0.0 for agents on other hosts)' : '';
        process.stdout.write(`to join another Docker host as a node, run there:\n  ${server.joinCommand}${local}\n`);
        await new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            logger.info({ signal: sig }, 'shutting down');
            void server.stop().then(resolve, resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      }),
    );
}
type Component = import('../../src/server/component.js').Component;
