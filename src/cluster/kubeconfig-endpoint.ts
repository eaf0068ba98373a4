// GET /kubeconfig: a kubeconfig whose server is the address the client reached this API at (its Host
// header, or ?server=https://HOST:PORT), so a CI job on the service's network gets one that works from
// where it is, not one naming 127.0.0.1. It carries the bearer token the request already had to
// present, so it gives nothing away. With KUBELITE_KUBECONFIG_OUT set (the node image's entry point
// passes it through), the same kubeconfig is also written to that file once the API serves: a volume
// shared with the job.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Request, Response } from 'express';
import { loadConnection } from '../client/kubeconfig.js';
import type { Component, ComponentContext } from '../server/component.js';
import { inspectCertificate } from '../util/cert-info.js';
import { checkServerURL, renderClusterKubeconfig, serverFromHost, tlsServerNameFor } from './kubeconfig.js';

interface Material {
  caPem: string;
  token: string;
  sans: { dnsNames: string[]; ipAddresses: string[] };
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

export function createKubeconfigEndpoint(): Component {
  return {
    name: 'kubeconfig',
    async start(ctx: ComponentContext) {
      const { config } = ctx;
      // The server wrote its own kubeconfig (token + CA) before starting any component.
      const load = (): Material => {
        const conn = loadConnection(path.join(config.dataDir, 'kubeconfig'));
        if (!conn.caPem || !conn.token) throw new Error('the server\'s kubeconfig has no CA or token');
        const sans = inspectCertificate(fs.readFileSync(path.join(config.dataDir, 'pki/apiserver.crt'), 'utf8'));
        return { caPem: conn.caPem, token: conn.token, sans };
      };
      const material = load();
      const name = process.env.KUBELITE_CLUSTER_NAME && /^[a-z0-9-]{1,63}$/.test(process.env.KUBELITE_CLUSTER_NAME) ? `kubelite-${process.env.KUBELITE_CLUSTER_NAME}` : 'kubelite';
      const render = (server: string) => renderClusterKubeconfig({ name, server, caPem: material.caPem, token: material.token, tlsServerName: tlsServerNameFor(server, material.sans) });

      ctx.addRoutes((app) => {
        app.get('/kubeconfig', (req: Request, res: Response) => {
          // It hands out the admin token: only for callers that already hold it (system:masters), never
          // for a ServiceAccount that RBAC happens to allow this path.
          const user = res.locals.user as { groups?: string[] } | undefined;
          if (user && !user.groups?.includes('system:masters')) {
            res.status(403).type('application/json').send(statusBody(403, 'Forbidden', 'forbidden: the kubeconfig carries the admin token and is served to the admin only'));
            return;
          }
          let server: string | undefined;
          const asked = typeof req.query.server === 'string' ? req.query.server : undefined;
          try {
            server = asked ? checkServerURL(asked) : serverFromHost(req.headers.host);
          } catch (err) {
            res.status(400).type('application/json').send(statusBody(400, 'BadRequest', (err as Error).message));
            return;
          }
          if (!server) {
            res.status(400).type('application/json').send(statusBody(400, 'BadRequest', 'cannot tell the server address from the Host header: pass ?server=https://HOST:PORT'));
            return;
          }
          res.type('application/yaml').send(render(server));
        });
      });

      const out = process.env.KUBELITE_KUBECONFIG_OUT;
      if (out) {
        const server = checkServerURL(process.env.KUBELITE_SERVER_URL || `https://${os.hostname().toLowerCase()}:${config.apiPort}`);
        const tmp = `${out}.${process.pid}.tmp`;
        fs.mkdirSync(path.dirname(out), { recursive: true });
        fs.writeFileSync(tmp, render(server), { mode: 0o600 });
        fs.renameSync(tmp, out);
        ctx.logger.info({ file: out, server }, 'kubeconfig written');
      }
    },
    async stop() {},
  };
}
