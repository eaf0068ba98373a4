// Clusters' Docker objects: listing them by label, creating a node's network, volume and container, and
// removing exactly one cluster's objects. Thin: the requests come from node-spec.ts.

import type Dockerode from 'dockerode';
import { CLUSTER_LABELS } from './names.js';
import { clustersFromDocker, type ClusterInfo, type DockerContainerSummary, type DockerNetworkSummary } from './record.js';
import { dockerMessage } from './engine.js';

export async function listClusters(docker: Dockerode): Promise<ClusterInfo[]> {
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [CLUSTER_LABELS.cluster] } }),
    docker.listNetworks({ filters: { label: [CLUSTER_LABELS.cluster] } }),
    docker.listVolumes({ filters: { label: [CLUSTER_LABELS.cluster] } }),
  ]);
  const cs: DockerContainerSummary[] = containers.map((c) => ({
    id: c.Id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    state: c.State,
    status: c.Status,
    labels: c.Labels ?? {},
    created: c.Created,
    addresses: Object.fromEntries(Object.entries(c.NetworkSettings?.Networks ?? {}).map(([n, v]) => [n, v.IPAddress])),
  }));
  const ns: DockerNetworkSummary[] = networks.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  const vs = (volumes.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  return clustersFromDocker(cs, ns, vs);
}

/** A container or network of that name that is not labelled as the cluster's: never touched. */
export async function foreignObject(docker: Dockerode, kind: 'container' | 'network', name: string, cluster: string): Promise<string | undefined> {
  try {
    const info = kind === 'container' ? await docker.getContainer(name).inspect() : await docker.getNetwork(name).inspect();
    const labels = (kind === 'container' ? (info as Dockerode.ContainerInspectInfo).Config.Labels : (info as { Labels?: Record<string, string> }).Labels) ?? {};
    return labels[CLUSTER_LABELS.cluster] === cluster ? undefined : `a ${kind} named ${name} exists that kubelite cluster did not create; remove or rename it first`;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** The last lines of a container's output (both streams, frames stripped). */
export async function logTail(docker: Dockerode, id: string, lines = 25): Promise<string> {
  try {
    const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    return demux(buf).trimEnd();
  } catch (err) {
    return `(no logs: ${dockerMessage(err)})`;
  }
}

/** Docker's multiplexed log stream (8-byte frame headers) -> text; plain text passes through. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2) && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  if (i < buf.length) out.push(buf.subarray(i));
  return Buffer.concat(out).toString('utf8');
}

export interface RemovalReport {
  containers: string[];
  /** Other containers that were on the cluster's network: disconnected, left running. */
  disconnected: string[];
  volumes: string[];
  network?: string;
  problems: string[];
}

/** Removes the cluster's containers (with their volumes), its named volumes and its network. */
export async function removeClusterObjects(docker: Dockerode, cluster: ClusterInfo): Promise<RemovalReport> {
  const report: RemovalReport = { containers: [], disconnected: [], volumes: [], problems: [] };
  for (const n of cluster.nodes) {
    try {
      await docker.getContainer(n.id).remove({ force: true, v: true });
      report.containers.push(n.container);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) report.problems.push(`container ${n.container}: ${dockerMessage(err)}`);
    }
  }
  for (const name of cluster.volumes) {
    try {
      await docker.getVolume(name).remove();
      report.volumes.push(name);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) report.problems.push(`volume ${name}: ${dockerMessage(err)}`);
    }
  }
  if (cluster.network) {
    try {
      // Containers of others joined to the cluster's network (a CI job, say) are let go, not removed.
      const net = docker.getNetwork(cluster.network.id);
      const info = (await net.inspect()) as { Containers?: Record<string, { Name?: string }> };
      for (const [id, c] of Object.entries(info.Containers ?? {})) {
        await net.disconnect({ Container: id, Force: true });
        report.disconnected.push(c.Name ?? id.slice(0, 12));
      }
      await net.remove();
      report.network = cluster.network.name;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) report.problems.push(`network ${cluster.network.name}: ${dockerMessage(err)}`);
    }
  }
  return report;
}
