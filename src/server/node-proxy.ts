// The API server's way to a Pod on another host: pods/log, pods/exec, pods/attach and pods/portforward
// of a Pod whose node is not this server's own are passed on, as they are, to that node's kubelet
// endpoint (status.daemonEndpoints.kubeletEndpoint.Port on its InternalIP), as kube-apiserver does.
// The connection is TLS checked against the cluster CA for the node's name, and carries the node's
// kubelet token instead of the client's credentials. Plain requests are streamed both ways; upgrades
// (WebSocket, SPDY) are spliced as bytes after the request head, so every protocol passes unchanged.

import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, Pod } from '../api/types.js';
import { R } from '../api/resources.js';
import { errors, isStatusError, type StatusError } from '../api/errors.js';
import type { ApiClient } from '../client/types.js';
import { parsePath } from './paths.js';

export const NODE_STREAM_SUBRESOURCES = ['log', 'exec', 'attach', 'portforward'] as const;

export interface KubeletTarget {
  node: string;
  host: string;
  port: number;
}

export interface NodeProxyDeps {
  client: Pick<ApiClient, 'get'>;
  /** The cluster CA that signed every kubelet's serving certificate. */
  caPem: string;
  /** The bearer token to show `node`'s kubelet. */
  kubeletToken(node: string): string;
  /** This server's own node (served in-process), if it runs an agent. */
  localNode?: string;
}

/** Where a node's kubelet endpoint is, from its Node object. Pure. */
export function kubeletTargetOf(node: Node): KubeletTarget | { error: string } {
  const name = node.metadata.name ?? '';
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!port) return { error: `node ${name} serves no kubelet endpoint (its agent runs inside a server that is not this one, or is too old)` };
  if (!ip) return { error: `node ${name} has no InternalIP address` };
  return { node: name, host: ip, port };
}

/** Is the request for a Pod stream, and of which Pod? Pure. */
export function podStreamOf(url: string | undefined): { namespace: string; name: string; subresource: string } | undefined {
  const u = new URL(url ?? '/', 'http://x');
  const p = parsePath(u.pathname);
  if (p.kind !== 'resource' || p.path.resource !== R.pods || !p.path.name || !p.path.subresource) return undefined;
  if (!(NODE_STREAM_SUBRESOURCES as readonly string[]).includes(p.path.subresource)) return undefined;
  return { namespace: p.path.namespace ?? 'default', name: p.path.name, subresource: p.path.subresource };
}

export class NodeProxy {
  constructor(private readonly deps: NodeProxyDeps) {}

  /**
   * 'local' for a Pod this server serves itself (its own agent's, or one bound to no node); the kubelet
   * to ask otherwise. A port-forward to a node without a kubelet endpoint is served here too: it only
   * needs the Pod's address, which the pod network routes from every host.
   */
  async routeFor(namespace: string, name: string, subresource?: string): Promise<'local' | KubeletTarget> {
    const pod = await this.deps.client.get<Pod>(R.pods, namespace, name);
    const node = pod.spec?.nodeName;
    if (!node || node === this.deps.localNode) return 'local';
    try {
      return await this.kubeletOf(node);
    } catch (err) {
      if (subresource === 'portforward') return 'local';
      throw err;
    }
  }

  async kubeletOf(nodeName: string): Promise<KubeletTarget> {
    let node: Node;
    try {
      node = await this.deps.client.get<Node>(R.nodes, undefined, nodeName);
    } catch (err) {
      if (isStatusError(err, 'NotFound')) throw errors.serviceUnavailable(`node ${nodeName} is not registered`);
      throw err;
    }
    const t = kubeletTargetOf(node);
    if ('error' in t) throw errors.serviceUnavailable(t.error);
    return t;
  }

  private tlsOptions(t: KubeletTarget): tls.ConnectionOptions {
    return { host: t.host, port: t.port, ca: this.deps.caPem, servername: t.node, ALPNProtocols: ['http/1.1'] };
  }

  private dialError(t: KubeletTarget, err: Error): StatusError {
    return errors.serviceUnavailable(`cannot reach the kubelet of node ${t.node} at ${t.host}:${t.port}: ${err.message}`);
  }

  /** Streams a plain request (`pods/log`, the image transfer) to `path` on the node's kubelet. */
  forward(t: KubeletTarget, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      const out = https.request(
        {
          ...this.tlsOptions(t),
          method: req.method,
          path,
          headers: { accept: req.headers.accept ?? '*/*', authorization: `Bearer ${this.deps.kubeletToken(t.node)}` },
          agent: false,
        },
        (kres) => {
          res.statusCode = kres.statusCode ?? 502;
          for (const h of ['content-type', 'cache-control', 'x-content-type-options', 'content-length']) {
            const v = kres.headers[h];
            if (v !== undefined) res.setHeader(h, v);
          }
          res.flushHeaders();
          kres.pipe(res);
          kres.on('end', resolve);
          kres.on('error', resolve);
        },
      );
      const stop = () => out.destroy();
      res.on('close', stop);
      out.on('error', (err) => (res.headersSent ? (res.end(), resolve()) : reject(this.dialError(t, err))));
      out.end();
    });
  }

  /** Passes an upgrade (exec, attach, port-forward) to the node's kubelet and splices the two sockets. */
  upgrade(t: KubeletTarget, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const conn = tls.connect(this.tlsOptions(t));
    let open = false;
    conn.once('secureConnect', () => {
      open = true;
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`, `Host: ${t.host}:${t.port}`, `Authorization: Bearer ${this.deps.kubeletToken(t.node)}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const k = req.rawHeaders[i];
        if (/^(host|authorization|impersonate-.*)$/i.test(k)) continue;
        lines.push(`${k}: ${req.rawHeaders[i + 1]}`);
      }
      conn.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) conn.write(head);
      conn.pipe(socket);
      socket.pipe(conn);
    });
    const close = () => {
      conn.destroy();
      socket.destroy();
    };
    conn.on('error', (err) => {
      if (!open) refuseSocket(socket, this.dialError(t, err));
      else close();
    });
    conn.on('close', () => socket.end());
    socket.on('error', close);
    socket.on('close', () => conn.destroy());
  }
}

export function refuseSocket(socket: Duplex, err: StatusError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(err.status);
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[err.status.code] ?? 'Error';
  socket.end(`HTTP/1.1 ${err.status.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
