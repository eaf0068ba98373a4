// The Docker create request of a node container and of its network. Pure: the adapter sends these as
// they are, so the unit tests see exactly what Docker gets.

import type Dockerode from 'dockerode';
import { nthAddress, parseCIDR } from '../util/ip.js';
import type { ClusterCIDRs } from './cidrs.js';
import { CLUSTER_LABELS, clusterNames, type NodeRole } from './names.js';

/** How a node container gets the rights a nested engine needs. */
export type SecurityMode = 'privileged' | 'capabilities';

/**
 * `--privileged`, or what was checked to work where the engine refuses it ("unable to apply caps":
 * CAP_SYS_RESOURCE is not in the engine's bounding set): every capability but that one, no seccomp or
 * AppArmor profile, /proc and /sys unmasked. The entry point then mounts cgroups afresh, read-write.
 */
export function securityHostConfig(mode: SecurityMode): Pick<Dockerode.HostConfig, 'Privileged' | 'CapAdd' | 'CapDrop' | 'SecurityOpt' | 'MaskedPaths' | 'ReadonlyPaths'> {
  if (mode === 'privileged') return { Privileged: true };
  return {
    CapAdd: ['ALL'],
    CapDrop: ['SYS_RESOURCE'],
    SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
    // what the CLI's --security-opt systempaths=unconfined sends: nothing masked, nothing read-only
    MaskedPaths: [],
    ReadonlyPaths: [],
  };
}

export interface NetworkSpecInput {
  cluster: string;
  cidrs: ClusterCIDRs;
}

export function networkSpec(i: NetworkSpecInput): Dockerode.NetworkCreateOptions {
  const n = clusterNames(i.cluster);
  return {
    Name: n.network,
    Driver: 'bridge',
    CheckDuplicate: true,
    Options: { 'com.docker.network.bridge.name': n.bridge },
    // a subnet of our choosing: Docker gives fixed addresses only on those
    IPAM: { Driver: 'default', Config: [{ Subnet: i.cidrs.nodeCIDR, Gateway: nthAddress(i.cidrs.nodeCIDR, 1) }] },
    Labels: {
      [CLUSTER_LABELS.cluster]: i.cluster,
      [CLUSTER_LABELS.bridge]: n.bridge,
      [CLUSTER_LABELS.podCIDR]: i.cidrs.podCIDR,
      [CLUSTER_LABELS.serviceCIDR]: i.cidrs.serviceCIDR,
      [CLUSTER_LABELS.lbPool]: i.cidrs.lbPool,
      [CLUSTER_LABELS.nodeCIDR]: i.cidrs.nodeCIDR,
    },
  };
}

/** A node's fixed address on the cluster network: .2 for the server, agents after it. */
export function nodeAddress(subnet: string, role: NodeRole, index: number): string {
  const n = role === 'server' ? 2 + index : 10 + index;
  if (n >= parseCIDR(subnet).size - 1) throw new Error(`the cluster network ${subnet} has no room for ${role} ${index}`);
  return nthAddress(subnet, n);
}

export interface NodeSpecInput {
  cluster: string;
  role: NodeRole;
  index: number;
  image: string;
  cidrs: ClusterCIDRs;
  security: SecurityMode;
  /** cgroup v2 engines need a private cgroup namespace for the nested engine. */
  cgroupV2: boolean;
  address: string;
  token: string;
  /** Publish the API on the host: `[address, port]`. */
  apiPublish?: [string, number];
  /** Serve the inner engine's API on this port of the cluster network (no TLS). */
  dockerTcpPort?: number;
  /** Extra `kubelite server` flags, passed on as separate arguments (never through a shell). */
  serverArgs: string[];
}

export const API_PORT = 6443;

/** Flags a user may not override through --server-arg: the cluster depends on them. */
const OWNED_FLAGS = ['--bind-address', '--api-port', '--node-name', '--service-cidr', '--pod-cidr', '--lb-pool', '--token-file', '--data-dir', '--instance'];

export function checkServerArgs(args: readonly string[]): string[] {
  for (const a of args) {
    if (a.includes('\0')) throw new Error('--server-arg: NUL in an argument');
    const flag = a.split('=')[0];
    if (OWNED_FLAGS.includes(flag)) throw new Error(`--server-arg ${flag}: set by kubelite cluster itself (use the cluster's own flags instead)`);
  }
  return [...args];
}

export function nodeContainerSpec(i: NodeSpecInput): Dockerode.ContainerCreateOptions {
  const n = clusterNames(i.cluster);
  const container = n.node(i.role, i.index);
  if (i.role !== 'server') throw new Error('agent nodes come with `kubelite agent` (not yet)');
  const cmd = [
    'kubelite',
    'server',
    '--bind-address',
    '0.0.0.0',
    '--api-port',
    String(API_PORT),
    '--node-name',
    container,
    '--pod-cidr',
    i.cidrs.podCIDR,
    '--service-cidr',
    i.cidrs.serviceCIDR,
    '--lb-pool',
    i.cidrs.lbPool,
    ...checkServerArgs(i.serverArgs),
  ];
  const env = [`KUBELITE_TOKEN=${i.token}`, `KUBELITE_POD_CIDR=${i.cidrs.podCIDR}`, `KUBELITE_CLUSTER_NAME=${i.cluster}`];
  if (i.dockerTcpPort) env.push(`KUBELITE_DOCKER_TCP=${i.dockerTcpPort}`);
  const labels: Record<string, string> = {
    [CLUSTER_LABELS.cluster]: i.cluster,
    [CLUSTER_LABELS.role]: i.role,
    [CLUSTER_LABELS.index]: String(i.index),
    [CLUSTER_LABELS.podCIDR]: i.cidrs.podCIDR,
    [CLUSTER_LABELS.serviceCIDR]: i.cidrs.serviceCIDR,
    [CLUSTER_LABELS.lbPool]: i.cidrs.lbPool,
    [CLUSTER_LABELS.nodeCIDR]: i.cidrs.nodeCIDR,
  };
  // CgroupnsMode (Engine API 1.41) is missing from @types/dockerode
  const hostConfig: Dockerode.HostConfig & { CgroupnsMode?: 'private' | 'host' } = {
    ...securityHostConfig(i.security),
    Mounts: [{ Type: 'volume', Source: n.volume(container), Target: '/var/lib/docker' }],
    RestartPolicy: { Name: 'no' },
  };
  if (i.cgroupV2) hostConfig.CgroupnsMode = 'private';
  const exposed: Record<string, object> = { [`${API_PORT}/tcp`]: {} };
  if (i.apiPublish) {
    labels[CLUSTER_LABELS.apiPublished] = `${i.apiPublish[0]}:${i.apiPublish[1]}`;
    hostConfig.PortBindings = { [`${API_PORT}/tcp`]: [{ HostIp: i.apiPublish[0], HostPort: String(i.apiPublish[1]) }] };
  }
  return {
    name: container,
    Hostname: container,
    Image: i.image,
    Cmd: cmd,
    Env: env,
    Labels: labels,
    ExposedPorts: exposed,
    StopTimeout: 30,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: { [n.network]: { IPAMConfig: { IPv4Address: i.address }, Aliases: [container] } } },
  };
}

export function volumeSpec(cluster: string, container: string): Dockerode.VolumeCreateOptions {
  return { Name: clusterNames(cluster).volume(container), Labels: { [CLUSTER_LABELS.cluster]: cluster } };
}
