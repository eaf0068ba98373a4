// What `kubelite server` adds for other hosts: the join token (written to <data-dir>/join-token and
// printed as a `kubelite agent` command), the join routes, the routing of Pod streams (logs, exec,
// attach, port-forward) to the kubelet endpoint of the Pod's node when that is not this server's own,
// the image transfer between nodes (GET /v1-kubelite/nodes/NODE/images?name=IMAGE), and the admission
// that gives every Pod its default not-ready/unreachable tolerations.

import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import type express from 'express';
import type { Request, Response } from 'express';
import type { Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors, isStatusError, StatusError } from '../api/errors.js';
import type { ServerConfig } from '../config.js';
import type { Registry } from '../server/registry.js';
import type { SubresourceHandler } from '../server/app.js';
import type { UpgradeHandler } from '../server/component.js';
import { formatJoinToken } from '../server/join-token.js';
import { joinSecret, kubeletToken } from '../server/node-auth.js';
import { NodeProxy, podStreamOf, refuseSocket } from '../server/node-proxy.js';
import type { ResourcePath } from '../server/paths.js';
import { withDefaultTolerations } from '../controllers/logic/node-lifecycle.js';
import { hostPrimaryIPv4 } from '../host/node-ips.js';
import type { KeyPairPem } from '../util/x509.js';
import type { Logger } from '../util/log.js';
import { mountJoinRoutes } from './join.js';

export const IMAGES_PATH = '/v1-kubelite/nodes/:node/images';

export interface MultiHostDeps {
  config: ServerConfig;
  dataDir: string;
  registry: Registry;
  adminToken: string;
  ca: KeyPairPem;
  logger: Logger;
}

export function joinCommand(serverURL: string, token: string): string {
  return `kubelite agent --server ${serverURL} --token ${token}`;
}

/** The API address other hosts should use: the bind address, or this host's primary one when bound to all. */
export function advertisedURL(config: ServerConfig, port: number): string {
  const host = config.bindAddress === '0.0.0.0' ? (config.nodeIP ?? hostPrimaryIPv4()) : config.bindAddress;
  return `https://${host}:${port}`;
}

function statusOf(err: unknown): StatusError {
  return isStatusError(err) ? err : errors.internal((err as Error)?.message ?? String(err));
}

export class MultiHostServer {
  joinToken = '';
  proxy!: NodeProxy;
  private readonly localNode?: string;

  constructor(private readonly d: MultiHostDeps) {
    this.localNode = d.config.disabled.has('agent') ? undefined : d.config.nodeName;
    this.adopt(d.adminToken, d.ca);
    const { defaultNotReadyTolerationSeconds: notReady, defaultUnreachableTolerationSeconds: unreachable } = d.config;
    d.registry.addAdmission({
      resource: R.pods,
      admit(ctx, obj) {
        if (ctx.op !== 'create' || ctx.subresource) return;
        const pod = obj as Pod;
        if (!pod.spec) return;
        const tolerations = withDefaultTolerations(pod.spec.tolerations, notReady, unreachable);
        if (tolerations) pod.spec.tolerations = tolerations;
      },
    });
  }

  /**
   * The cluster's admin token and CA, from which the join token and every node credential derive. A
   * server that joins other servers on one etcd adopts theirs after it started: the routes read them live.
   */
  adopt(adminToken: string, ca: KeyPairPem): void {
    this.d.adminToken = adminToken;
    this.d.ca = ca;
    this.joinToken = formatJoinToken(ca.certPem, joinSecret(adminToken));
    const file = path.join(this.d.dataDir, 'join-token');
    fs.writeFileSync(file, this.joinToken + '\n', { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    this.proxy = new NodeProxy({ client: this.d.registry, caPem: ca.certPem, kubeletToken: (n) => kubeletToken(this.d.adminToken, n), localNode: this.localNode });
  }

  /** /cacerts and the join endpoint: before the token check (they check what they need themselves). */
  mountPublic(app: express.Express): void {
    mountJoinRoutes(app, this.d);
  }

  /** The image transfer between nodes (a node's or the admin's token). */
  mount(app: express.Express): void {
    app.get(IMAGES_PATH, async (req: Request, res: Response) => {
      try {
        const node = String(req.params.node);
        const name = typeof req.query.name === 'string' ? req.query.name : '';
        if (node === this.localNode) return void (await this.serveLocalImage(name, res));
        const t = await this.proxy.kubeletOf(node);
        await this.proxy.forward(t, `/images?name=${encodeURIComponent(name)}`, req, res);
      } catch (err) {
        const e = statusOf(err);
        if (!res.headersSent) res.status(e.status.code).type('application/json').send(JSON.stringify(e.status));
        else res.end();
      }
    });
  }

  private async serveLocalImage(name: string, res: Response): Promise<void> {
    const { checkImageName, saveImage } = await import('../agent/images-peer.js');
    const Dockerode = (await import('dockerode')).default;
    let image: string;
    try {
      image = checkImageName(name);
    } catch (err) {
      throw errors.badRequest((err as Error).message);
    }
    const tar = await saveImage(new Dockerode(), image);
    if (!tar) throw new StatusError({ code: 404, reason: 'NotFound', message: `image ${image} is not on node ${this.localNode}` });
    res.status(200).type('application/x-tar');
    res.flushHeaders();
    tar.pipe(res);
    res.on('close', () => tar.destroy());
  }

  /** A Pod stream subresource: this server's own agent serves local Pods, the Pod's node the others. */
  routeSubresource(local: () => SubresourceHandler | undefined): SubresourceHandler {
    return async (req: Request, res: Response, p: ResourcePath) => {
      const route = await this.proxy.routeFor(p.namespace ?? 'default', p.name ?? '', p.subresource);
      if (route !== 'local') return this.proxy.forward(route, req.originalUrl, req, res);
      const h = local();
      if (!h) throw errors.serviceUnavailable(`pods/${p.subresource} is not available: this server runs no agent`);
      return h(req, res, p);
    };
  }

  /** First among the upgrade handlers: remote Pods' exec/attach/port-forward go to their node. */
  upgradeHandler(locals: () => UpgradeHandler[]): UpgradeHandler {
    return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const s = podStreamOf(req.url);
      if (!s) return false;
      socket.on('error', () => undefined);
      void this.proxy
        .routeFor(s.namespace, s.name, s.subresource)
        .then((route) => {
          if (route !== 'local') return this.proxy.upgrade(route, req, socket, head);
          for (const h of locals()) if (h(req, socket, head)) return;
          refuseSocket(socket, errors.serviceUnavailable(`pods/${s.subresource} is not available on this server`));
        })
        .catch((err) => refuseSocket(socket, statusOf(err)));
      return true;
    };
  }

  /** A saved image from another node's kubelet (for this server's own agent). */
  fetchNodeImage(node: string, image: string): Promise<Readable> {
    return this.proxy.kubeletOf(node).then(
      (t) =>
        new Promise<Readable>((resolve, reject) => {
          const req = https.request(
            { host: t.host, port: t.port, ca: this.d.ca.certPem, servername: t.node, path: `/images?name=${encodeURIComponent(image)}`, headers: { authorization: `Bearer ${kubeletToken(this.d.adminToken, t.node)}` }, agent: false },
            (res) => {
              if (res.statusCode === 200) return resolve(res);
              let body = '';
              res.on('data', (c) => (body += c));
              res.on('end', () => reject(new Error(`node ${node}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`)));
            },
          );
          req.on('error', reject);
          req.end();
        }),
    );
  }
}
