// Where the host keeps what Docker labels cannot hold: each cluster's kubeconfig, and which rights node
// containers get on this engine. Root only (the kubeconfigs carry admin tokens).

import os from 'node:os';
import path from 'node:path';
import { checkClusterName } from './names.js';

/** $KUBELITE_CLUSTERS_DIR, else /var/lib/kubelite-clusters (beside the host server's data dir, not in it). */
export function defaultClustersDir(): string {
  return process.env.KUBELITE_CLUSTERS_DIR || '/var/lib/kubelite-clusters';
}

export function clusterDir(clustersDir: string, name: string): string {
  return path.join(clustersDir, checkClusterName(name));
}

export function kubeconfigFile(clustersDir: string, name: string): string {
  return path.join(clusterDir(clustersDir, name), 'kubeconfig');
}

/** The kubeconfig `--merge` writes to: the first $KUBECONFIG entry, else ~/.kube/config (as kubectl). */
export function userKubeconfig(): string {
  const env = process.env.KUBECONFIG?.split(path.delimiter).find(Boolean);
  return env ?? path.join(os.homedir(), '.kube', 'config');
}
