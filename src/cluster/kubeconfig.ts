// Kubeconfigs for node containers: the one `kubelite cluster create` writes, the one a node serves at
// GET /kubeconfig (CI jobs), and merging a cluster into ~/.kube/config and out of it again. Pure.

import YAML from 'yaml';
import { isIPv4 } from '../util/ip.js';

export interface ClusterKubeconfig {
  /** Context, cluster and user are named after it (`kubelite-NAME`). */
  name: string;
  server: string;
  caPem: string;
  token: string;
  /** The name to check the server's certificate against, when the URL's host is not one of its names. */
  tlsServerName?: string;
}

interface NamedEntry {
  name: string;
  [k: string]: unknown;
}

interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  preferences?: Record<string, unknown>;
  clusters?: NamedEntry[];
  users?: NamedEntry[];
  contexts?: NamedEntry[];
  'current-context'?: string;
  [k: string]: unknown;
}

function doc(k: ClusterKubeconfig): KubeconfigDoc {
  const cluster: Record<string, string> = { server: k.server, 'certificate-authority-data': Buffer.from(k.caPem).toString('base64') };
  if (k.tlsServerName) cluster['tls-server-name'] = k.tlsServerName;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: k.name, cluster }],
    users: [{ name: `${k.name}-admin`, user: { token: k.token } }],
    contexts: [{ name: k.name, context: { cluster: k.name, user: `${k.name}-admin`, namespace: 'default' } }],
    'current-context': k.name,
  };
}

export function renderClusterKubeconfig(k: ClusterKubeconfig): string {
  return YAML.stringify(doc(k));
}

function parse(text: string | undefined, what: string): KubeconfigDoc {
  if (!text || !text.trim()) return { apiVersion: 'v1', kind: 'Config', preferences: {}, clusters: [], users: [], contexts: [] };
  let d: unknown;
  try {
    d = YAML.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid YAML: ${(err as Error).message}`);
  }
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new Error(`${what} is not a kubeconfig (expected a mapping)`);
  const k = d as KubeconfigDoc;
  for (const list of ['clusters', 'users', 'contexts'] as const) {
    if (k[list] !== undefined && !Array.isArray(k[list])) throw new Error(`${what}: ${list} is not a list`);
  }
  return k;
}

function upsert(list: NamedEntry[] | undefined, entry: NamedEntry): NamedEntry[] {
  const out = (list ?? []).filter((e) => e.name !== entry.name);
  out.push(entry);
  return out;
}

/** existing (a kubeconfig's text, or undefined) with the cluster's entries added or replaced. */
export function mergeKubeconfig(existing: string | undefined, k: ClusterKubeconfig, opts: { setCurrent: boolean; what?: string }): string {
  const base = parse(existing, opts.what ?? 'the kubeconfig');
  const add = doc(k);
  base.clusters = upsert(base.clusters, add.clusters![0]);
  base.users = upsert(base.users, add.users![0]);
  base.contexts = upsert(base.contexts, add.contexts![0]);
  if (opts.setCurrent) base['current-context'] = k.name;
  base.apiVersion ??= 'v1';
  base.kind ??= 'Config';
  return YAML.stringify(base);
}

/** existing without the context `name` and its cluster and user; undefined when it has none of them. */
export function removeFromKubeconfig(existing: string, name: string, what = 'the kubeconfig'): string | undefined {
  const base = parse(existing, what);
  const before = (base.clusters?.length ?? 0) + (base.users?.length ?? 0) + (base.contexts?.length ?? 0);
  base.clusters = (base.clusters ?? []).filter((e) => e.name !== name);
  base.users = (base.users ?? []).filter((e) => e.name !== `${name}-admin`);
  base.contexts = (base.contexts ?? []).filter((e) => e.name !== name);
  const after = base.clusters.length + base.users.length + base.contexts.length;
  if (before === after && base['current-context'] !== name) return undefined;
  if (base['current-context'] === name) delete base['current-context'];
  return YAML.stringify(base);
}

/**
 * The API URL a client used, from its Host header (`kubelite:6443`, `10.0.0.2:6443`, `[::1]:6443`), or
 * undefined when the header is not a plain host[:port].
 */
export function serverFromHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(:(\d{1,5}))?$/.exec(host);
  if (!m) return undefined;
  if (m[4] !== undefined && (Number(m[4]) < 1 || Number(m[4]) > 65535)) return undefined;
  return `https://${host.toLowerCase()}`;
}

/** A `server` given by a client: an https URL with a host and nothing after the port. */
export function checkServerURL(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`server ${JSON.stringify(value)} is not a URL`);
  }
  if (u.protocol !== 'https:' || !u.hostname || u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    throw new Error(`server ${JSON.stringify(value)}: expected https://HOST[:PORT]`);
  }
  return `https://${u.host}`;
}

/** The certificate name to check instead, when the URL's host is not among the certificate's names. */
export function tlsServerNameFor(server: string, sans: { dnsNames: string[]; ipAddresses: string[] }, fallback = 'kubernetes'): string | undefined {
  const host = new URL(server).hostname.replace(/^\[|\]$/g, '');
  const covered = isIPv4(host) || host.includes(':') ? sans.ipAddresses.includes(host) : sans.dnsNames.some((d) => d.toLowerCase() === host.toLowerCase());
  return covered ? undefined : fallback;
}
