// Joining a node, server side: GET /cacerts (public, as k3s serves it: the agent checks its hash
// against the join token before it sends anything), and POST /v1-kubelite/join, which takes the join
// secret and a node's name and password and gives back the node's credentials (its API token, the
// token the API server will show its kubelet endpoint, and a serving certificate for that endpoint
// signed by the cluster CA) plus the cluster settings the agent must share (ranges, DNS, timings).
// A node name is claimed by the first agent that joins with it: its password's hash is kept in the
// Secret kube-system/<node>.node-password.kubelite (k3s keeps node passwords the same way), and an
// agent with another password is refused.

import crypto from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { Secret } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors, isStatusError, StatusError } from '../api/errors.js';
import type { PodNetworkMode, ServerConfig } from '../config.js';
import type { Registry } from '../server/registry.js';
import { sameSecret } from '../server/join-token.js';
import { joinSecret, kubeletToken, nodeToken } from '../server/node-auth.js';
import type { KeyPairPem } from '../util/x509.js';
import { generateCertificateIsolated } from '../util/x509-child.js';
import { isIPv4 } from '../util/ip.js';
import type { Logger } from '../util/log.js';

export const JOIN_PATH = '/v1-kubelite/join';
export const CACERTS_PATH = '/cacerts';

/** What an agent takes over from the server it joins (the rest of its configuration is its own). */
export interface ClusterSettings {
  podCIDR: string;
  serviceCIDR: string;
  clusterDNS: string;
  clusterDomain: string;
  nodePortRange: [number, number];
  lbPool?: string;
  podNetwork: PodNetworkMode;
  nodeCIDRMaskSize: number;
  nodeLeaseRenewIntervalMs: number;
  dnsTTL: number;
  resyncSchedule: string;
}

export interface JoinRequest {
  nodeName: string;
  password: string;
  nodeIP: string;
}

export interface JoinResponse {
  nodeName: string;
  nodeToken: string;
  kubeletToken: string;
  kubeletCertPem: string;
  kubeletKeyPem: string;
  caPem: string;
  cluster: ClusterSettings;
}

export function clusterSettings(c: ServerConfig): ClusterSettings {
  return {
    podCIDR: c.podCIDR,
    serviceCIDR: c.serviceCIDR,
    clusterDNS: c.clusterDNS,
    clusterDomain: c.clusterDomain,
    nodePortRange: c.nodePortRange,
    lbPool: c.lbPool,
    podNetwork: c.podNetwork,
    nodeCIDRMaskSize: c.nodeCIDRMaskSize,
    nodeLeaseRenewIntervalMs: c.nodeLeaseRenewIntervalMs,
    dnsTTL: c.dnsTTL,
    resyncSchedule: c.resyncSchedule,
  };
}

const NODE_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,200}[a-z0-9])?$/;

export function passwordSecretName(node: string): string {
  return `${node}.node-password.kubelite`;
}

export function passwordHash(password: string): string {
  return crypto.createHash('sha256').update(`kubelite-node-password:${password}`).digest('hex');
}

/** Checks a join request's fields. Pure. */
export function checkJoinRequest(body: unknown): JoinRequest {
  const b = (body ?? {}) as Partial<JoinRequest>;
  const causes: { field: string; reason: string; message: string }[] = [];
  if (typeof b.nodeName !== 'string' || !NODE_NAME_RE.test(b.nodeName)) causes.push({ field: 'nodeName', reason: 'FieldValueInvalid', message: 'a node name must be a lowercase DNS subdomain (a-z, 0-9, \'-\' and \'.\')' });
  if (typeof b.password !== 'string' || !/^[A-Za-z0-9_-]{32,128}$/.test(b.password)) causes.push({ field: 'password', reason: 'FieldValueInvalid', message: 'the node password must be 32-128 characters of A-Z, a-z, 0-9, _ and -' });
  if (typeof b.nodeIP !== 'string' || !isIPv4(b.nodeIP)) causes.push({ field: 'nodeIP', reason: 'FieldValueInvalid', message: 'the node IP must be an IPv4 address' });
  if (causes.length) throw errors.badRequest(`invalid join request: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
  return b as JoinRequest;
}

/** Read on every request: a server that joins others on one etcd adopts their token and CA. */
export interface JoinDeps {
  registry: Registry;
  config: ServerConfig;
  adminToken: string;
  ca: KeyPairPem;
  logger: Logger;
}

function send(res: Response, code: number, body: unknown): void {
  res.status(code).type('application/json').send(JSON.stringify(body));
}

/** The node's claim on its name: refused when another agent (another password) holds it. */
async function claimName(d: JoinDeps, j: JoinRequest): Promise<void> {
  if (j.nodeName === d.config.nodeName && !d.config.disabled.has('agent')) {
    throw errors.conflict(R.nodes, j.nodeName, `node name "${j.nodeName}" is the server's own node: give this agent another --node-name`);
  }
  const name = passwordSecretName(j.nodeName);
  const hash = passwordHash(j.password);
  let stored: Secret | undefined;
  try {
    stored = await d.registry.get<Secret>(R.secrets, 'kube-system', name);
  } catch (err) {
    if (!isStatusError(err, 'NotFound')) throw err;
  }
  if (stored) {
    const have = Buffer.from(stored.data?.hash ?? '', 'base64').toString('utf8');
    if (!sameSecret(have, hash)) {
      throw errors.conflict(
        R.nodes,
        j.nodeName,
        `node name "${j.nodeName}" is already claimed by another agent (its node password differs): give this agent another --node-name, or if the old host is gone for good, delete its Node and the Secret kube-system/${name}`,
      );
    }
    return;
  }
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'kube-system', labels: { 'app.kubernetes.io/managed-by': 'kubelite' } },
    type: 'kubelite.io/node-password',
    data: { hash: Buffer.from(hash).toString('base64') },
  };
  try {
    await d.registry.create(R.secrets, secret);
  } catch (err) {
    // Two agents joining with one name at the same moment: the second one finds the first one's claim.
    if (isStatusError(err, 'AlreadyExists')) return claimName(d, j);
    throw err;
  }
}

export function mountJoinRoutes(app: express.Express, d: JoinDeps): void {
  app.get(CACERTS_PATH, (_req, res) => {
    res.type('text/plain').send(d.ca.certPem);
  });
  app.post(JOIN_PATH, express.json({ limit: '16kb' }), async (req: Request, res: Response) => {
    try {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7).trim(), joinSecret(d.adminToken))) {
        throw errors.unauthorized('the join token is not this cluster\'s (kubelite server prints the right one and keeps it in <data-dir>/join-token)');
      }
      const j = checkJoinRequest(req.body);
      await claimName(d, j);
      const cert = await generateCertificateIsolated({ commonName: `system:node:${j.nodeName}`, dnsNames: [j.nodeName], ipAddresses: [j.nodeIP], ca: d.ca, days: 825, usage: 'server' });
      const out: JoinResponse = {
        nodeName: j.nodeName,
        nodeToken: nodeToken(d.adminToken, j.nodeName),
        kubeletToken: kubeletToken(d.adminToken, j.nodeName),
        kubeletCertPem: cert.certPem,
        kubeletKeyPem: cert.keyPem,
        caPem: d.ca.certPem,
        cluster: clusterSettings(d.config),
      };
      d.logger.info({ node: j.nodeName, nodeIP: j.nodeIP }, 'node joined');
      send(res, 200, out);
    } catch (err) {
      const e = err instanceof StatusError ? err : errors.internal((err as Error).message);
      if (!(err instanceof StatusError)) d.logger.warn({ err: (err as Error).message }, 'join failed');
      send(res, e.status.code, e.status);
    }
  });
}
