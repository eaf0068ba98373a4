// ApiClient over Kubernetes REST: what the CLI (and a future remote agent) uses. Any API server that
// speaks Kubernetes' paths works, which keeps us honest about serving exactly those.

import http from 'node:http';
import https from 'node:https';
import type { KList, KObject, Status, WatchEvent } from '../api/types.js';
import type { ResourceInfo } from '../api/resources.js';
import { StatusError } from '../api/errors.js';
import type { ApiClient, DeleteOptions, ListOptions, PatchType, Watch, WatchHandlers, WatchOptions, WriteOpts } from './types.js';
import { PATCH_CONTENT_TYPES } from './types.js';
import type { Connection } from './kubeconfig.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function resourcePath(res: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  const ns = res.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${res.plural}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class HttpClient implements ApiClient {
  private readonly agent: https.Agent | http.Agent;
  private url: URL;
  private readonly servers: string[];
  /** Warnings the server sent (`Warning` headers), for the CLI to print. */
  readonly warnings: string[] = [];

  constructor(readonly conn: Connection) {
    this.url = new URL(conn.server);
    this.servers = [conn.server, ...(conn.fallbackServers ?? [])];
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: conn.caPem, rejectUnauthorized: !conn.insecureSkipTLSVerify, cert: conn.clientCertPem, key: conn.clientKeyPem })
        : new http.Agent({ keepAlive: true });
  }

  close(): void {
    this.agent.destroy();
  }

  private options(method: string, path: string, headers: Record<string, string>): https.RequestOptions {
    return {
      method,
      host: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || (this.url.protocol === 'https:' ? 443 : 80),
      path,
      agent: this.agent,
      headers: {
        Accept: 'application/json',
        'User-Agent': 'kubelite-cli',
        ...(this.conn.token ? { Authorization: `Bearer ${this.conn.token}` } : {}),
        ...headers,
      },
    };
  }

  /** The server requests go to now (another of the cluster's once this one stopped answering). */
  get server(): string {
    return this.url.toString().replace(/\/$/, '');
  }

  /**
   * One request; resolves with status, headers and body text whatever the status. When the server is
   * unreachable and the kubeconfig names other servers of the cluster, moves to the next: any request
   * whose connection was refused (nothing was sent), reads also after a reset or a timeout.
   */
  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    for (let tried = 1; ; tried++) {
      try {
        return await this.rawOnce(method, path, body, headers);
      } catch (err) {
        const code = (err as { cause?: NodeJS.ErrnoException }).cause?.code ?? (err as NodeJS.ErrnoException).code;
        const unsent = code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
        const retryable = unsent || ((method === 'GET' || method === 'HEAD') && (code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE'));
        if (!retryable || tried >= this.servers.length) throw err;
        const next = this.servers[(this.servers.indexOf(this.server) + 1) % this.servers.length]!;
        this.url = new URL(next);
      }
    }
  }

  private rawOnce(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const h = { ...headers };
    if (payload !== undefined) {
      h['Content-Type'] ??= 'application/json';
      h['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const mod = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(this.options(method, path, h), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (err) => reject(connectionError(err, this.server)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.raw(method, path, body, headers);
    const warn = res.headers.warning;
    if (warn) for (const w of Array.isArray(warn) ? warn : [warn]) this.warnings.push(w.replace(/^299 - "?|"?$/g, ''));
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 400) {
      const status = parsed as Status | undefined;
      if (status?.kind === 'Status') throw new StatusError({ ...status, message: status.message ?? `HTTP ${res.status}`, code: status.code ?? res.status });
      throw new StatusError({ code: res.status, reason: 'Unknown', message: `the server responded with HTTP ${res.status}: ${res.body.slice(0, 200)}` });
    }
    return parsed as T;
  }

  get<T extends KObject = KObject>(res: ResourceInfo, namespace: string | undefined, name: string, subresource?: string): Promise<T> {
    return this.request('GET', resourcePath(res, namespace, name, subresource));
  }

  list<T extends KObject = KObject>(res: ResourceInfo, opts: ListOptions = {}): Promise<KList<T>> {
    return this.request('GET', resourcePath(res, opts.namespace) + query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector }));
  }

  /** A server-printed Table (the columns kubectl shows). */
  table(res: ResourceInfo, opts: ListOptions & { name?: string; includeObject?: 'Metadata' | 'Object' } = {}): Promise<KObject> {
    return this.request(
      'GET',
      resourcePath(res, opts.namespace, opts.name) + query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, includeObject: opts.includeObject }),
      undefined,
      { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    );
  }

  create<T extends KObject = KObject>(res: ResourceInfo, obj: T, opts: WriteOpts = {}): Promise<T> {
    return this.request('POST', resourcePath(res, obj.metadata?.namespace) + query({ fieldManager: opts.fieldManager, fieldValidation: opts.fieldValidation }), obj);
  }

  update<T extends KObject = KObject>(res: ResourceInfo, obj: T, opts: WriteOpts = {}): Promise<T> {
    return this.request('PUT', resourcePath(res, obj.metadata?.namespace, obj.metadata?.name, opts.subresource) + query({ fieldManager: opts.fieldManager, fieldValidation: opts.fieldValidation }), obj);
  }

  patch<T extends KObject = KObject>(res: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, opts: WriteOpts = {}): Promise<T> {
    return this.request(
      'PATCH',
      resourcePath(res, namespace, name, opts.subresource) + query({ fieldManager: opts.fieldManager ?? (type === 'apply' ? 'kubelite' : undefined), force: opts.force, fieldValidation: opts.fieldValidation }),
      patch,
      { 'Content-Type': PATCH_CONTENT_TYPES[type] },
    );
  }

  delete(res: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KObject | Status> {
    return this.request('DELETE', resourcePath(res, namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1', ...opts });
  }

  createSubresource(res: ResourceInfo, namespace: string | undefined, name: string, subresource: string, body: KObject): Promise<KObject | Status> {
    return this.request('POST', resourcePath(res, namespace, name, subresource), body);
  }

  watch<T extends KObject = KObject>(res: ResourceInfo, opts: WatchOptions, handlers: WatchHandlers<T>, accept = 'application/json'): Watch {
    const path = resourcePath(res, opts.namespace) + query({ watch: 1, resourceVersion: opts.resourceVersion, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, allowWatchBookmarks: undefined });
    return this.stream(path, accept, (line) => {
      const ev = JSON.parse(line) as WatchEvent<T>;
      if (ev.type === 'ERROR') {
        const st = ev.object as unknown as Status;
        return new StatusError({ ...st, message: st.message ?? 'watch error', code: st.code ?? 500 });
      }
      handlers.onEvent(ev);
      return undefined;
    }, handlers.onClose);
  }

  /** Reads a newline-delimited JSON stream; `onLine` may return an error that ends it. */
  stream(path: string, accept: string, onLine: (line: string) => Error | undefined, onClose?: (err?: Error) => void): Watch {
    const mod = this.url.protocol === 'https:' ? https : http;
    let closed = false;
    const close = (err?: Error) => {
      if (closed) return;
      closed = true;
      req.destroy();
      onClose?.(err);
    };
    const req = mod.request(this.options('GET', path, { Accept: accept }), (res) => {
      if ((res.statusCode ?? 0) >= 400) {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          try {
            const st = JSON.parse(body) as Status;
            close(new StatusError({ ...st, message: st.message ?? `HTTP ${res.statusCode}`, code: st.code ?? res.statusCode ?? 500 }));
          } catch {
            close(new StatusError({ code: res.statusCode ?? 500, reason: 'Unknown', message: body.slice(0, 200) }));
          }
        });
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line || closed) continue;
          try {
            const err = onLine(line);
            if (err) return close(err);
          } catch (err) {
            return close(err as Error);
          }
        }
      });
      res.on('end', () => close());
      res.on('error', (err) => close(err));
    });
    req.on('error', (err) => close(closed ? undefined : connectionError(err, this.conn.server)));
    req.end();
    return { stop: () => close() };
  }
}

function connectionError(err: Error, server: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return new Error(`The connection to the server ${new URL(server).host} was refused - is \`kubelite server\` running?`, { cause: err });
  if (code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'SELF_SIGNED_CERT_IN_CHAIN') {
    return new Error(`TLS: the server ${server} presented a certificate the kubeconfig's CA does not verify (${code}): is the kubeconfig from this server's data dir?`);
  }
  return err;
}
