// Kubeconfig files: the one we write for kubectl and our CLI, and reading the current context back
// (ours, or any kubeconfig that uses a bearer token and a CA, like k3s's).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export interface Connection {
  server: string;
  token?: string;
  caPem?: string;
  insecureSkipTLSVerify?: boolean;
  namespace?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  /**
   * Other servers of the same cluster: the servers of the kubeconfig's other contexts that trust the
   * same CA and use the same credentials. A client moves to the next when one is unreachable.
   */
  fallbackServers?: string[];
}

export const DEFAULT_DATA_DIR = '/var/lib/kubelite';

export function renderKubeconfig(c: { server: string; caPem: string; token: string; name?: string; others?: { name: string; server: string }[] }): string {
  const name = c.name ?? 'kubelite';
  const ca = Buffer.from(c.caPem).toString('base64');
  // Several servers of one cluster (etcd): one context each, sharing the CA and the user.
  const all = [{ name, server: c.server }, ...(c.others ?? []).filter((o) => o.name !== name && o.server !== c.server)];
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: all.map((s) => ({ name: s.name, cluster: { server: s.server, 'certificate-authority-data': ca } })),
    users: [{ name: `${name}-admin`, user: { token: c.token } }],
    contexts: all.map((s) => ({ name: s.name, context: { cluster: s.name, user: `${name}-admin`, namespace: 'default' } })),
    'current-context': name,
  });
}

/** Where the CLI finds its kubeconfig: --kubeconfig, $KUBECONFIG (first entry), the server's own, ~/.kube/config. */
export function resolveKubeconfigPath(explicit?: string): string {
  if (explicit) return explicit;
  const env = process.env.KUBECONFIG?.split(path.delimiter).find(Boolean);
  if (env) return env;
  const ours = path.join(DEFAULT_DATA_DIR, 'kubeconfig');
  if (fs.existsSync(ours)) return ours;
  return path.join(os.homedir(), '.kube', 'config');
}

interface KubeconfigDoc {
  clusters?: { name: string; cluster: Record<string, string | boolean> }[];
  users?: { name: string; user: Record<string, string> }[];
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  'current-context'?: string;
}

function fileOrData(data: unknown, file: unknown, base: string): string | undefined {
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  if (typeof file === 'string') return fs.readFileSync(path.resolve(base, file), 'utf8');
  return undefined;
}

export function loadConnection(file: string, context?: string): Connection {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `no kubeconfig at ${file}: start the server with \`kubelite server\` (it writes ${path.join(DEFAULT_DATA_DIR, 'kubeconfig')}) or pass --kubeconfig`
        : `cannot read kubeconfig ${file}: ${(err as Error).message}`,
    );
  }
  const doc = YAML.parse(text) as KubeconfigDoc;
  const ctxName = context ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig ${file}: context ${JSON.stringify(ctxName)} not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`kubeconfig ${file}: cluster ${JSON.stringify(ctx.cluster)} has no server`);
  const base = path.dirname(file);
  const caOf = (cl: Record<string, string | boolean> | undefined) => (cl ? (cl['certificate-authority-data'] ?? cl['certificate-authority']) : undefined);
  const fallbackServers: string[] = [];
  for (const other of doc.contexts ?? []) {
    if (other.name === ctxName) continue;
    const oc = doc.clusters?.find((c) => c.name === other.context.cluster)?.cluster;
    const ou = doc.users?.find((u) => u.name === other.context.user)?.user ?? {};
    if (!oc?.server || oc.server === cluster.server || caOf(oc) !== caOf(cluster) || JSON.stringify(ou) !== JSON.stringify(user)) continue;
    if (!fallbackServers.includes(String(oc.server))) fallbackServers.push(String(oc.server));
  }
  return {
    ...(fallbackServers.length ? { fallbackServers } : {}),
    server: String(cluster.server),
    token: user.token ?? (user.tokenFile ? fs.readFileSync(path.resolve(base, user.tokenFile), 'utf8').trim() : undefined),
    caPem: fileOrData(cluster['certificate-authority-data'], cluster['certificate-authority'], base),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    namespace: ctx.namespace,
    clientCertPem: fileOrData(user['client-certificate-data'], user['client-certificate'], base),
    clientKeyPem: fileOrData(user['client-key-data'], user['client-key'], base),
  };
}
