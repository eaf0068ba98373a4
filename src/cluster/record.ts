// What the host's Docker says about clusters: their node containers and networks, read back from the
// labels `kubelite cluster create` put on them (Docker is the source of truth; there is no other
// state). Pure.

import type { ClusterCIDRs } from './cidrs.js';
import { CLUSTER_LABELS, clusterNames, CLUSTER_NAME_RE, type NodeRole } from './names.js';

export interface DockerContainerSummary {
  id: string;
  name: string;
  state: string;
  status: string;
  labels: Record<string, string>;
  /** Address on each network, by network name. */
  addresses: Record<string, string>;
  created: number;
}

export interface DockerNetworkSummary {
  id: string;
  name: string;
  labels: Record<string, string>;
}

export interface ClusterNode {
  container: string;
  id: string;
  role: NodeRole;
  index: number;
  state: string;
  status: string;
  address?: string;
}

export interface ClusterInfo {
  name: string;
  cidrs?: ClusterCIDRs;
  bridge: string;
  network?: DockerNetworkSummary;
  nodes: ClusterNode[];
  /** Its volumes (a node's /var/lib/docker). */
  volumes: string[];
  /** `ADDRESS:PORT` when the API is published on the host. */
  apiPublished?: string;
  created?: number;
}

function cidrsFrom(labels: Record<string, string>): ClusterCIDRs | undefined {
  const podCIDR = labels[CLUSTER_LABELS.podCIDR];
  const serviceCIDR = labels[CLUSTER_LABELS.serviceCIDR];
  const lbPool = labels[CLUSTER_LABELS.lbPool];
  const nodeCIDR = labels[CLUSTER_LABELS.nodeCIDR];
  return podCIDR && serviceCIDR && lbPool && nodeCIDR ? { podCIDR, serviceCIDR, lbPool, nodeCIDR } : undefined;
}

/** Clusters by name from labelled containers and networks; objects with a bad label are ignored. */
export function clustersFromDocker(containers: readonly DockerContainerSummary[], networks: readonly DockerNetworkSummary[], volumes: readonly { name: string; labels: Record<string, string> }[] = []): ClusterInfo[] {
  const byName = new Map<string, ClusterInfo>();
  const get = (name: string) => {
    let c = byName.get(name);
    if (!c) {
      c = { name, bridge: clusterNames(name).bridge, nodes: [], volumes: [] };
      byName.set(name, c);
    }
    return c;
  };
  for (const n of networks) {
    const name = n.labels[CLUSTER_LABELS.cluster];
    if (!name || !CLUSTER_NAME_RE.test(name) || n.name !== clusterNames(name).network) continue;
    const c = get(name);
    c.network = n;
    c.cidrs ??= cidrsFrom(n.labels);
    c.bridge = n.labels[CLUSTER_LABELS.bridge] || c.bridge;
  }
  for (const ct of containers) {
    const name = ct.labels[CLUSTER_LABELS.cluster];
    if (!name || !CLUSTER_NAME_RE.test(name)) continue;
    const role = ct.labels[CLUSTER_LABELS.role];
    const index = Number(ct.labels[CLUSTER_LABELS.index]);
    if ((role !== 'server' && role !== 'agent') || !Number.isInteger(index)) continue;
    if (ct.name !== clusterNames(name).node(role, index)) continue;
    const c = get(name);
    c.nodes.push({ container: ct.name, id: ct.id, role, index, state: ct.state, status: ct.status, address: ct.addresses[clusterNames(name).network] });
    c.cidrs ??= cidrsFrom(ct.labels);
    if (role === 'server' && index === 0) {
      c.apiPublished = ct.labels[CLUSTER_LABELS.apiPublished] || undefined;
      c.created = ct.created;
    }
  }
  for (const v of volumes) {
    const name = v.labels[CLUSTER_LABELS.cluster];
    if (!name || !CLUSTER_NAME_RE.test(name) || !v.name.startsWith(`kubelite-${name}-`)) continue;
    get(name).volumes.push(v.name);
  }
  for (const c of byName.values()) c.nodes.sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === 'server' ? -1 : 1));
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function serverNode(c: ClusterInfo): ClusterNode | undefined {
  return c.nodes.find((n) => n.role === 'server' && n.index === 0);
}
