// Names and labels of everything a cluster puts on the host. Pure. Every Docker object carries the
// cluster label, and every name is derived from the cluster's validated name, so deleting one cluster
// can find exactly its own objects and never another's (nor the host kubelite's: those are named
// `kubelite`, `kubelite-<instance>` with no second dash, `k8s-...`, `kl0...`, `klsvc...`).

import { createHash } from 'node:crypto';

/** 1-32 of a-z, 0-9 and inner dashes: it becomes part of container, network and DNS names. */
export const CLUSTER_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export const CLUSTER_LABELS = {
  /** The cluster's name: on node containers, the network, volumes. */
  cluster: 'io.kubelite.cluster',
  /** server | agent */
  role: 'io.kubelite.cluster.role',
  index: 'io.kubelite.cluster.index',
  serviceCIDR: 'io.kubelite.cluster.service-cidr',
  podCIDR: 'io.kubelite.cluster.pod-cidr',
  lbPool: 'io.kubelite.cluster.lb-pool',
  nodeCIDR: 'io.kubelite.cluster.node-cidr',
  bridge: 'io.kubelite.cluster.bridge',
  /** `ADDRESS:PORT` the API is published on (only with --api-port). */
  apiPublished: 'io.kubelite.cluster.api-published',
} as const;

export type NodeRole = 'server' | 'agent';

export function checkClusterName(name: string): string {
  if (!CLUSTER_NAME_RE.test(name)) {
    throw new Error(`cluster name ${JSON.stringify(name)}: must be 1-32 characters of a-z, 0-9 and '-', starting and ending with a letter or digit`);
  }
  return name;
}

export interface ClusterNames {
  name: string;
  /** The cluster's Docker network. */
  network: string;
  /** Its Linux bridge (at most 15 bytes). */
  bridge: string;
  /** The kubeconfig context (and cluster and user prefix). */
  context: string;
  node(role: NodeRole, index: number): string;
  /** The volume holding a node's /var/lib/docker. */
  volume(node: string): string;
}

export function clusterNames(name: string): ClusterNames {
  checkClusterName(name);
  const bridge = name.length <= 11 ? `klc-${name}` : `klc-${createHash('sha256').update(name).digest('hex').slice(0, 11)}`;
  return {
    name,
    network: `kubelite-${name}-net`,
    bridge,
    context: `kubelite-${name}`,
    node: (role, index) => {
      if (!Number.isInteger(index) || index < 0 || index > 999) throw new Error(`node index ${index}`);
      return `kubelite-${name}-${role}-${index}`;
    },
    volume: (node) => `${node}-docker`,
  };
}

/** `kubelite-NAME-server-0` -> { cluster NAME, role, index }; anything else -> undefined. */
export function parseNodeName(container: string): { cluster: string; role: NodeRole; index: number } | undefined {
  const m = /^kubelite-(.+)-(server|agent)-(\d{1,3})$/.exec(container.replace(/^\//, ''));
  if (!m || !CLUSTER_NAME_RE.test(m[1])) return undefined;
  return { cluster: m[1], role: m[2] as NodeRole, index: Number(m[3]) };
}
