// Settings every server sharing one store must agree on. The first server records them in the
// ConfigMap kube-system/kubelite-config (as kubeadm records its ClusterConfiguration in kube-system);
// a server started later with another service CIDR, cluster domain, cluster DNS address or NodePort
// range refuses to start and says which flag differs, instead of handing out addresses from a
// range the others do not route or answering DNS for another domain.

import os from 'node:os';
import type { ConfigMap } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { ServerConfig } from '../config.js';
import type { ApiClient } from '../client/types.js';

export const CLUSTER_CONFIG_NAMESPACE = 'kube-system';
export const CLUSTER_CONFIG_NAME = 'kubelite-config';

/** The shared settings as stored: flag name -> value. */
export function clusterSettings(config: ServerConfig): Record<string, string> {
  return {
    'service-cidr': config.serviceCIDR,
    'cluster-domain': config.clusterDomain,
    'cluster-dns': config.clusterDNS,
    'service-node-port-range': `${config.nodePortRange[0]}-${config.nodePortRange[1]}`,
  };
}

/** One line per setting this server has differently from the store's record. Pure. */
export function settingsMismatch(recorded: Record<string, string>, mine: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [flag, value] of Object.entries(mine)) {
    const theirs = recorded[flag];
    if (theirs !== undefined && theirs !== value) out.push(`--${flag} ${value} (the cluster uses ${theirs})`);
  }
  return out;
}

export class ClusterConfigMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterConfigMismatchError';
  }
}

/** Records this server's settings if none are, else checks them. Throws ClusterConfigMismatchError. */
export async function claimClusterConfig(client: ApiClient, config: ServerConfig): Promise<void> {
  const mine = clusterSettings(config);
  const cm: ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CLUSTER_CONFIG_NAME, namespace: CLUSTER_CONFIG_NAMESPACE, annotations: { 'kubelite.io/recorded-by': `${config.nodeName || os.hostname()}` } },
    data: mine,
  };
  let recorded: ConfigMap;
  try {
    await client.create(R.configmaps, cm);
    return;
  } catch (err) {
    if (!isStatusError(err, 'AlreadyExists')) throw err;
    recorded = await client.get<ConfigMap>(R.configmaps, CLUSTER_CONFIG_NAMESPACE, CLUSTER_CONFIG_NAME);
  }
  const data = recorded.data ?? {};
  const problems = settingsMismatch(data, mine);
  if (problems.length > 0) {
    const by = recorded.metadata.annotations?.['kubelite.io/recorded-by'];
    throw new ClusterConfigMismatchError(
      `this store is shared with other kubelite servers whose settings differ from this server's: ${problems.join('; ')}` +
        `${by ? ` (recorded by ${by})` : ''}. Start this server with the cluster's values; to change them, stop every server first and delete ConfigMap ${CLUSTER_CONFIG_NAMESPACE}/${CLUSTER_CONFIG_NAME}`,
    );
  }
  // A setting added by a newer kubelite is recorded by the first server that knows it.
  if (Object.keys(mine).some((k) => data[k] === undefined)) {
    await client.update(R.configmaps, { ...recorded, data: { ...mine, ...data } }).catch(() => undefined);
  }
}
