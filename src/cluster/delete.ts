// `kubelite cluster delete NAME` (and `kubelite cleanup` for every cluster): the cluster's routes,
// resolver settings, node containers, volumes, network and kubeconfig, found by its labels and names
// only, so another cluster's objects and the host kubelite's are never touched.

import Dockerode from 'dockerode';
import fs from 'node:fs';
import { listClusters, removeClusterObjects } from './docker.js';
import { hostRoutes, resolvedAvailable, runIpAll, runResolvectl } from './host-net.js';
import { removeFromKubeconfig } from './kubeconfig.js';
import { clusterNames } from './names.js';
import type { ClusterInfo } from './record.js';
import { resolvedRevert } from './resolver.js';
import { planRouteDeletes } from './routes.js';
import { clusterDir, defaultClustersDir, userKubeconfig } from './state.js';

export interface DeleteClusterOptions {
  name: string;
  docker?: Dockerode;
  clustersDir?: string;
}

export interface DeleteReport {
  name: string;
  found: boolean;
  containers: string[];
  disconnected: string[];
  volumes: string[];
  network?: string;
  routes: string[];
  resolver: boolean;
  kubeconfig?: string;
  contextRemovedFrom?: string;
  problems: string[];
}

export async function deleteCluster(o: DeleteClusterOptions): Promise<DeleteReport> {
  const names = clusterNames(o.name);
  const docker = o.docker ?? new Dockerode();
  const clustersDir = o.clustersDir ?? defaultClustersDir();
  const report: DeleteReport = { name: o.name, found: false, containers: [], disconnected: [], volumes: [], routes: [], resolver: false, problems: [] };
  const cluster: ClusterInfo = (await listClusters(docker)).find((c) => c.name === o.name) ?? { name: o.name, bridge: names.bridge, nodes: [], volumes: [] };

  // Routes first (while the bridge exists): only routes to this cluster's ranges through its own bridge.
  if (cluster.cidrs) {
    const dels = planRouteDeletes(await hostRoutes(), cluster.cidrs, cluster.bridge);
    report.problems.push(...(await runIpAll(dels)));
    report.routes = dels.map((d) => d[2]);
  }
  if (cluster.network && (await resolvedAvailable())) {
    try {
      await runResolvectl(resolvedRevert({ bridge: cluster.bridge }));
      report.resolver = true;
    } catch (err) {
      report.problems.push(`resolvectl revert ${cluster.bridge}: ${(err as Error).message}`);
    }
  }
  const removed = await removeClusterObjects(docker, cluster);
  report.containers = removed.containers;
  report.disconnected = removed.disconnected;
  report.volumes = removed.volumes;
  report.network = removed.network;
  report.problems.push(...removed.problems);

  const dir = clusterDir(clustersDir, o.name);
  if (fs.existsSync(dir)) {
    fs.rmSync(dir, { recursive: true, force: true });
    report.kubeconfig = dir;
  }
  const user = userKubeconfig();
  try {
    const text = fs.readFileSync(user, 'utf8');
    const updated = removeFromKubeconfig(text, names.context, user);
    if (updated !== undefined) {
      fs.writeFileSync(user, updated, { mode: 0o600 });
      report.contextRemovedFrom = user;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') report.problems.push(`${user}: ${(err as Error).message}`);
  }
  report.found = cluster.nodes.length > 0 || !!cluster.network || cluster.volumes.length > 0 || report.routes.length > 0 || !!report.kubeconfig || !!report.contextRemovedFrom;
  return report;
}

/** Every cluster on this engine (kubelite cleanup). */
export async function deleteAllClusters(o: { docker?: Dockerode; clustersDir?: string } = {}): Promise<DeleteReport[]> {
  const docker = o.docker ?? new Dockerode();
  const out: DeleteReport[] = [];
  for (const c of await listClusters(docker)) out.push(await deleteCluster({ name: c.name, docker, clustersDir: o.clustersDir }));
  return out;
}
