// Several servers on one etcd act as one cluster towards clients: they share one CA, one token and one
// ServiceAccount signing key (the first server's, recorded in Secret kube-system/kubelite-credentials;
// a later server adopts them), and
// each records its API address in ConfigMap kube-system/kubelite-servers, from which every server
// writes a kubeconfig with one context per server, so clients can move to another when one dies.

import type { ConfigMap, Secret } from '../api/types.js';
import { R } from '../api/resources.js';
import { isStatusError } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';
import type { KeyPairPem } from '../util/x509.js';

export const CREDENTIALS_SECRET = 'kubelite-credentials';
export const SERVERS_CONFIGMAP = 'kubelite-servers';
const NS = 'kube-system';

export interface ClusterCredentials {
  token: string;
  ca: KeyPairPem;
  /** The ServiceAccount token signing key (PKCS#8 PEM): a token any server issued is valid on all. */
  saKey?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The cluster's credentials, recording `local` if none are yet. `adopted`: they differ from `local`. */
export async function shareCredentials(client: ApiClient, local: ClusterCredentials): Promise<ClusterCredentials & { adopted: boolean }> {
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: CREDENTIALS_SECRET, namespace: NS },
    type: 'Opaque',
    data: { token: b64(local.token), 'ca.crt': b64(local.ca.certPem), 'ca.key': b64(local.ca.keyPem), ...(local.saKey ? { 'sa.key': b64(local.saKey) } : {}) },
  };
  try {
    await client.create(R.secrets, secret);
    return { ...local, adopted: false };
  } catch (err) {
    if (!isStatusError(err, 'AlreadyExists')) throw err;
  }
  let got = await client.get<Secret>(R.secrets, NS, CREDENTIALS_SECRET);
  if (local.saKey && !got.data?.['sa.key']) {
    // Recorded by a server without a ServiceAccount key to share: this server's becomes the cluster's
    // (or, if another server adds one first, that one: the update conflicts and the Secret is re-read).
    try {
      got = await client.update<Secret>(R.secrets, { ...got, data: { ...(got.data ?? {}), 'sa.key': b64(local.saKey) } });
    } catch (err) {
      if (!isStatusError(err, 'Conflict')) throw err;
      got = await client.get<Secret>(R.secrets, NS, CREDENTIALS_SECRET);
    }
  }
  const saKey = got.data?.['sa.key'] ? unb64(got.data['sa.key']) : undefined;
  const shared = { token: unb64(got.data?.token), ca: { certPem: unb64(got.data?.['ca.crt']), keyPem: unb64(got.data?.['ca.key']) }, ...(saKey ? { saKey } : {}) };
  if (!shared.token || !shared.ca.certPem || !shared.ca.keyPem) throw new Error(`Secret ${NS}/${CREDENTIALS_SECRET} lacks token, ca.crt or ca.key: restore it, or delete it with every server stopped`);
  const adopted = shared.token !== local.token || shared.ca.certPem !== local.ca.certPem || shared.ca.keyPem !== local.ca.keyPem || (!!saKey && saKey !== local.saKey);
  return { ...shared, adopted };
}

/** A ConfigMap key for one server: its node name and instance tag. Pure. */
export function serverKey(nodeName: string, instance: string): string {
  const k = `${nodeName}${instance ? `-${instance}` : ''}`.toLowerCase().replace(/[^-._a-z0-9]/g, '-');
  return k || 'server';
}

/** Records this server's address; returns every server's (key -> URL). */
export async function publishServer(client: ApiClient, key: string, url: string): Promise<Record<string, string>> {
  for (let attempt = 0; ; attempt++) {
    let cm: ConfigMap | undefined;
    try {
      cm = await client.get<ConfigMap>(R.configmaps, NS, SERVERS_CONFIGMAP);
    } catch (err) {
      if (!isStatusError(err, 'NotFound')) throw err;
    }
    try {
      if (!cm) {
        await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: SERVERS_CONFIGMAP, namespace: NS }, data: { [key]: url } });
        return { [key]: url };
      }
      if (cm.data?.[key] === url) return { ...cm.data };
      const data = { ...(cm.data ?? {}), [key]: url };
      await client.update(R.configmaps, { ...cm, data });
      return data;
    } catch (err) {
      if (attempt < 10 && (isStatusError(err, 'Conflict') || isStatusError(err, 'AlreadyExists'))) continue;
      throw err;
    }
  }
}

/** Every server's address as recorded. */
export async function knownServers(client: ApiClient): Promise<Record<string, string>> {
  try {
    return { ...((await client.get<ConfigMap>(R.configmaps, NS, SERVERS_CONFIGMAP)).data ?? {}) };
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return {};
    throw err;
  }
}
