// Where Pods reach the API. The admin token stays on the address the operator chose (--bind-address,
// 127.0.0.1 by default); Pods cannot reach loopback, so the API also listens on the pod bridge's
// gateway, where only ServiceAccount tokens are accepted. The `kubernetes` Service's Endpoints name
// that address (or the bind address itself when Pods can reach it).

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';
import { nodePodCIDR } from '../config.js';
import { nthAddress } from '../util/ip.js';

export interface PodAccessPlan {
  /** Listen here too (SA tokens only); undefined: no extra listener. */
  extraListen?: string;
  /** The Endpoints address of the `kubernetes` Service; undefined: none Pods could use. */
  endpointIP?: string;
}

/** The pod bridge gateway of this node (the agent's bridge address). */
export function podGateway(podCIDR: string): string {
  return nthAddress(nodePodCIDR(podCIDR), 1);
}

export function podAccessPlan(o: { bindAddress: string; podCIDR: string; agentEnabled: boolean }): PodAccessPlan {
  const gateway = podGateway(o.podCIDR);
  if (o.bindAddress === '0.0.0.0') return o.agentEnabled ? { endpointIP: gateway } : {};
  if (o.bindAddress.startsWith('127.')) return o.agentEnabled ? { extraListen: gateway, endpointIP: gateway } : {};
  // A host address the operator chose: Pods reach it through the bridge, and it already takes any token.
  return { endpointIP: o.bindAddress };
}

export interface PodListener {
  port: number;
  /** Whether a request arrived through this listener. */
  owns(req: IncomingMessage): boolean;
  close(): void;
}

/**
 * Listens on `address` with the API's certificate and app, trying `port` first (so the Service's
 * targetPort matches the main one) and any free port when it is taken. The address appears when the
 * agent has made the bridge: retried for up to `waitMs`.
 */
export async function listenForPods(
  address: string,
  port: number,
  tls: { cert: string; key: string },
  app: RequestListener,
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  waitMs = 15_000,
): Promise<PodListener> {
  const sockets = new WeakSet<TLSSocket>();
  const server = https.createServer({ cert: tls.cert, key: tls.key }, app);
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 0;
  server.on('secureConnection', (s: TLSSocket) => sockets.add(s));
  server.on('upgrade', onUpgrade);
  const deadline = Date.now() + waitMs;
  let tryPort = port;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(tryPort, address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && tryPort !== 0) tryPort = 0;
      else if (code === 'EADDRNOTAVAIL' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      else throw err;
    }
  }
  return {
    port: (server.address() as AddressInfo).port,
    owns: (req) => sockets.has(req.socket as TLSSocket),
    close: () => {
      server.closeAllConnections?.();
      server.close();
    },
  };
}
