// The kubelet endpoint of a joined agent: the small HTTPS server through which the API server reaches
// this node's Pods (kube-apiserver -> kubelet :10250). It serves exactly the API paths the API server
// passes on — `.../pods/NAME/log` as a plain request, `exec`, `attach` and `portforward` as upgrades —
// with the same handlers the server uses for its own node, plus GET /images?name=IMAGE (a `docker save`
// stream for another node). Its certificate is the one the server signed at join; the only credential
// it accepts is the kubelet token the server derives for this node.

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Dockerode from 'dockerode';
import express, { type Request, type Response } from 'express';
import { errors, isStatusError, StatusError } from '../api/errors.js';
import type { SubresourceHandler } from '../server/app.js';
import type { UpgradeHandler } from '../server/component.js';
import { sameSecret } from '../server/join-token.js';
import { parsePath } from '../server/paths.js';
import { refuseSocket } from '../server/node-proxy.js';
import { checkImageName, saveImage } from '../agent/images-peer.js';
import type { Logger } from '../util/log.js';

export interface KubeletOptions {
  bindAddress: string;
  port: number;
  certPem: string;
  keyPem: string;
  caPem: string;
  token: string;
  logger: Logger;
  docker?: Dockerode;
}

function send(res: Response, err: StatusError): void {
  if (res.headersSent) return void res.end();
  res.status(err.status.code).type('application/json').send(JSON.stringify(err.status));
}

export class KubeletServer {
  readonly subresources = new Map<string, SubresourceHandler>();
  readonly upgrades: UpgradeHandler[] = [];
  private server?: https.Server;

  constructor(private readonly o: KubeletOptions) {}

  private authorized(header: string | undefined): boolean {
    return !!header?.startsWith('Bearer ') && sameSecret(header.slice(7).trim(), this.o.token);
  }

  async start(): Promise<number> {
    const app = express();
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok'));
    app.use((req, res, next) => (this.authorized(req.headers.authorization) ? next() : send(res, errors.unauthorized())));
    app.get('/images', async (req: Request, res: Response) => {
      try {
        let name: string;
        try {
          name = checkImageName(req.query.name);
        } catch (err) {
          throw errors.badRequest((err as Error).message);
        }
        const tar = await saveImage(this.o.docker ?? new Dockerode(), name);
        if (!tar) throw new StatusError({ code: 404, reason: 'NotFound', message: `image ${name} is not on this node` });
        res.status(200).type('application/x-tar');
        res.flushHeaders();
        tar.pipe(res);
        res.on('close', () => tar.destroy());
      } catch (err) {
        send(res, isStatusError(err) ? err : errors.internal((err as Error).message));
      }
    });
    app.use(async (req: Request, res: Response) => {
      try {
        const p = parsePath(req.path);
        const h = p.kind === 'resource' && p.path.subresource ? this.subresources.get(`${p.path.resource.plural}/${p.path.subresource}`) : undefined;
        if (p.kind !== 'resource' || !h) throw new StatusError({ code: 404, reason: 'NotFound', message: `the kubelet serves no ${req.path}` });
        await h(req, res, p.path);
      } catch (err) {
        send(res, isStatusError(err) ? err : errors.internal((err as Error).message));
      }
    });
    const server = https.createServer({ cert: this.o.certPem, key: this.o.keyPem, ca: this.o.caPem }, app);
    server.requestTimeout = 0;
    server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => undefined);
      if (!this.authorized(req.headers.authorization)) return refuseSocket(socket, errors.unauthorized());
      for (const h of this.upgrades) if (h(req, socket, head)) return;
      refuseSocket(socket, new StatusError({ code: 404, reason: 'NotFound', message: 'no upgrade handler for this path' }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error(`the kubelet port ${this.o.port} is in use: pass --kubelet-port`) : err));
      server.listen(this.o.port, this.o.bindAddress, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
