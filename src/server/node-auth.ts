// Who a request is and what a node may do. The kubeconfig's admin token can do anything. A joined agent
// gets a token of its own node (`kln1.<node>.<mac>`), verified without any lookup because it is a MAC
// of the node name under a key derived from the admin token, so several servers that share the admin
// token accept each other's node tokens. A node is `system:node:<name>` in `system:nodes` and may only
// do what a kubelet and kube-proxy need (Kubernetes' Node authorizer and NodeRestriction, reduced):
// read the cluster, write its own Node, Lease, the status of Pods, delete Pods, write Events, request the
// ServiceAccount tokens of its own Pods, and make and remove the local-path PersistentVolumes of its own host.
// The join secret and the token the API server shows a node's kubelet endpoint come from the same key.
// Pure.

import crypto from 'node:crypto';
import { sameSecret } from './join-token.js';

export type Principal = { kind: 'admin' } | { kind: 'node'; node: string };

export const NODE_USER_PREFIX = 'system:node:';
const NODE_TOKEN_PREFIX = 'kln1.';
const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function mac(adminToken: string, what: string): string {
  return crypto.createHmac('sha256', `kubelite-node-credentials:${adminToken}`).update(what).digest('base64url');
}

/** The secret in the join token (the part after `node:`). */
export function joinSecret(adminToken: string): string {
  return mac(adminToken, 'join').slice(0, 32);
}

export function nodeToken(adminToken: string, node: string): string {
  if (!NODE_NAME_RE.test(node)) throw new Error(`node name ${JSON.stringify(node)} is not a DNS subdomain`);
  return `${NODE_TOKEN_PREFIX}${node}.${mac(adminToken, `node:${node}`)}`;
}

/** The bearer token the API server presents to a node's kubelet endpoint (the node gets it at join). */
export function kubeletToken(adminToken: string, node: string): string {
  return mac(adminToken, `kubelet:${node}`);
}

/** The node a node token belongs to, or undefined when it is not a valid node token. */
export function verifyNodeToken(adminToken: string, token: string): string | undefined {
  if (!token.startsWith(NODE_TOKEN_PREFIX)) return undefined;
  const dot = token.lastIndexOf('.');
  if (dot <= NODE_TOKEN_PREFIX.length) return undefined;
  const node = token.slice(NODE_TOKEN_PREFIX.length, dot);
  if (!NODE_NAME_RE.test(node)) return undefined;
  return sameSecret(token.slice(dot + 1), mac(adminToken, `node:${node}`)) ? node : undefined;
}

/** The principal of an Authorization header, or undefined (401). */
export function authenticate(header: string | undefined, adminToken: string): Principal | undefined {
  if (!header?.startsWith('Bearer ')) return undefined;
  const token = header.slice(7).trim();
  if (sameSecret(token, adminToken)) return { kind: 'admin' };
  const node = verifyNodeToken(adminToken, token);
  return node ? { kind: 'node', node } : undefined;
}

export function userName(p: Principal): string {
  return p.kind === 'admin' ? 'kubelite-admin' : `${NODE_USER_PREFIX}${p.node}`;
}

export interface RequestAttributes {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  /** API group ('' for core). */
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const READ = new Set(['get', 'list', 'watch']);
/** What a node may read: what its kubelet (with its local-path provisioner), proxier and DNS replica watch. */
const READABLE = new Set([
  'nodes',
  'pods',
  'services',
  'endpoints',
  'endpointslices',
  'configmaps',
  'secrets',
  'namespaces',
  'leases',
  'events',
  'ingresses',
  'ingressclasses',
  'persistentvolumeclaims',
  'persistentvolumes',
  'storageclasses',
  'serviceaccounts',
]);

/** undefined: allowed; otherwise why not, in Kubernetes' words. */
export function nodeForbidden(node: string, a: RequestAttributes): string | undefined {
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const deny = (why: string) =>
    `${a.resource}${a.group ? `.${a.group}` : ''}${a.name ? ` "${a.name}"` : ''} is forbidden: User "${NODE_USER_PREFIX}${node}" cannot ${a.verb} resource "${res}" in API group "${a.group}" ${scope}: ${why}`;
  if (READ.has(a.verb) && !a.subresource && READABLE.has(a.resource)) return undefined;
  switch (res) {
    case 'nodes':
    case 'nodes/status':
      if (a.verb === 'create' || a.verb === 'get') return undefined;
      if ((a.verb === 'update' || a.verb === 'patch') && a.name === node) return undefined;
      return deny(`node '${node}' cannot modify node '${a.name ?? ''}'`);
    case 'leases':
      if (a.namespace === 'kube-node-lease' && (a.verb === 'create' || ((a.verb === 'update' || a.verb === 'patch' || a.verb === 'get') && a.name === node))) return undefined;
      return deny(`a node may only write its own Lease in kube-node-lease`);
    case 'pods/status':
      if (a.verb === 'update' || a.verb === 'patch' || a.verb === 'get') return undefined;
      return deny('a node writes the status of Pods');
    case 'pods':
      if (a.verb === 'delete') return undefined;
      return deny('a node may read and delete Pods, not create or change them');
    case 'events':
      if (a.verb === 'create' || a.verb === 'update' || a.verb === 'patch') return undefined;
      return deny('a node may write Events');
    case 'serviceaccounts/token':
      // the kubelet asks for the tokens of the Pods bound to it (the binding is checked against the request's boundObjectRef)
      if (a.verb === 'create') return undefined;
      return deny('a node may only create tokens of the Pods bound to it');
    case 'persistentvolumes':
      // the local-path provisioner of a node makes and removes the volumes of its own directories
      if (a.verb === 'create' || a.verb === 'delete') return undefined;
      return deny('a node may create and delete PersistentVolumes (local-path), not change them');
    default:
      return deny('not allowed for nodes');
  }
}

/** Non-resource paths a node may use: discovery, OpenAPI, version, health, and the image transfer between nodes. */
export function nodeMayUsePath(method: string, path: string): boolean {
  if (method !== 'GET') return false;
  return /^\/(api|apis|openapi)(\/|$)/.test(path) || /^\/(version|healthz|livez|readyz)\/?$/.test(path) || /^\/v1-kubelite\/nodes\/[^/]+\/images$/.test(path);
}
