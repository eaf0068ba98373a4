// `kubectl port-forward`: what kubectl 1.32 speaks, served by the API server itself (Pods are local).
//
// kubectl first asks for a WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io` and runs SPDY/3.1
// inside its binary messages; if that upgrade fails it falls back to a plain `Upgrade: SPDY/3.1`
// (`X-Stream-Protocol-Version: portforward.k8s.io`). Both carry the same SPDY session: for every local
// connection kubectl opens two streams with headers `streamtype: error|data`, `port`, `requestid`; we
// answer each SYN_STREAM, connect the data stream to the Pod's IP and port, copy bytes both ways, and
// write failures to the error stream. SPDY header blocks are zlib-compressed with a fixed dictionary:
// we inflate kubectl's with one long-lived zlib context, and send ours as stored (uncompressed) deflate
// blocks, which any inflater reads. spdystream (kubectl's side) does no flow control, so neither do we.
// Connections only ever go to a Pod IP inside the pod CIDR (the local pod bridge), or to loopback for
// host-network Pods.

import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { WebSocketServer, type WebSocket } from 'ws';
import { R } from '../api/resources.js';
import { errors, isStatusError, StatusError } from '../api/errors.js';
import type { Pod } from '../api/types.js';
import type { ApiClient } from '../client/types.js';
import type { UpgradeHandler } from './component.js';
import { cidrContains } from '../util/ip.js';

export const PORTFORWARD_PROTOCOL = 'portforward.k8s.io';
export const TUNNELED_PROTOCOL = `SPDY/3.1+${PORTFORWARD_PROTOCOL}`;

/** The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, section 2.6.10.1). */
export const SPDY_DICTIONARY = Buffer.from(
  'AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2VwdC1jaGFyc2V0AAAAD2FjY2VwdC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UAAAAFYWxsb3cAAAANYXV0aG9yaXphdGlvbgAAAA1jYWNoZS1jb250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNlAAAAEGNvbnRlbnQtZW5jb2RpbmcAAAAQY29udGVudC1sYW5ndWFnZQAAAA5jb250ZW50LWxlbmd0aAAAABBjb250ZW50LWxvY2F0aW9uAAAAC2NvbnRlbnQtbWQ1AAAADWNvbnRlbnQtcmFuZ2UAAAAMY29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAAAAZleHBlY3QAAAAHZXhwaXJlcwAAAARmcm9tAAAABGhvc3QAAAAIaWYtbWF0Y2gAAAARaWYtbW9kaWZpZWQtc2luY2UAAAANaWYtbm9uZS1tYXRjaAAAAAhpZi1yYW5nZQAAABNpZi11bm1vZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZpZWQAAAAIbG9jYXRpb24AAAAMbWF4LWZvcndhcmRzAAAABnByYWdtYQAAABJwcm94eS1hdXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXphdGlvbgAAAAVyYW5nZQAAAAdyZWZlcmVyAAAAC3JldHJ5LWFmdGVyAAAABnNlcnZlcgAAAAJ0ZQAAAAd0cmFpbGVyAAAAEXRyYW5zZmVyLWVuY29kaW5nAAAAB3VwZ3JhZGUAAAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3ZpYQAAAAd3YXJuaW5nAAAAEHd3dy1hdXRoZW50aWNhdGUAAAAGbWV0aG9kAAAAA2dldAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNpb24AAAAISFRUUC8xLjEAAAADdXJsAAAABnB1YmxpYwAAAApzZXQtY29va2llAAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAxMjAyMjA1MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3NDA4NDA5NDEwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0IE5vIENvbnRlbnQzMDEgTW92ZWQgUGVybWFuZW50bHk0MDAgQmFkIFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRlbjQwNCBOb3QgRm91bmQ1MDAgSW50ZXJuYWwgU2VydmVyIEVycm9yNTAxIE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZhaWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBKdW4gSnVsIEF1ZyBTZXB0IE9jdCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBXZWQsIFRodSwgRnJpLCBTYXQsIFN1biwgR01UY2h1bmtlZCx0ZXh0L2h0bWwsaW1hZ2UvcG5nLGltYWdlL2pwZyxpbWFnZS9naWYsYXBwbGljYXRpb24veG1sLGFwcGxpY2F0aW9uL3hodG1sK3htbCx0ZXh0L3BsYWluLHRleHQvamF2YXNjcmlwdCxwdWJsaWNwcml2YXRlbWF4LWFnZT1nemlwLGRlZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby04ODU5LTEsdXRmLSwqLGVucT0wLg==',
  'base64',
);

// ---------------------------------------------------------------- SPDY/3.1 frames (pure)

export const SPDY = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
export const FLAG_FIN = 0x01;
const MAX_DATA_FRAME = 32 * 1024;
const MAX_FRAME = 16 * 1024 * 1024;

export type Frame =
  | { control: true; type: number; flags: number; payload: Buffer }
  | { control: false; streamId: number; flags: number; data: Buffer };

/** Splits complete frames off the front of `buf`; returns them and the unconsumed rest. */
export function parseFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let pos = 0;
  while (buf.length - pos >= 8) {
    const length = buf.readUIntBE(pos + 5, 3);
    if (length > MAX_FRAME) throw new Error(`SPDY frame of ${length} bytes`);
    if (buf.length - pos < 8 + length) break;
    const flags = buf[pos + 4];
    const body = buf.subarray(pos + 8, pos + 8 + length);
    if (buf[pos] & 0x80) {
      const version = buf.readUInt16BE(pos) & 0x7fff;
      if (version !== 3) throw new Error(`SPDY version ${version}, want 3`);
      frames.push({ control: true, type: buf.readUInt16BE(pos + 2), flags, payload: body });
    } else {
      frames.push({ control: false, streamId: buf.readUInt32BE(pos) & 0x7fffffff, flags, data: body });
    }
    pos += 8 + length;
  }
  return { frames, rest: buf.subarray(pos) };
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([head, payload]);
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head[4] = flags;
  head.writeUIntBE(data.length, 5, 3);
  return Buffer.concat([head, data]);
}

/** An uncompressed SPDY/3 name/value block. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const n = Buffer.alloc(4);
  n.writeUInt32BE(Object.keys(headers).length);
  parts.push(n);
  for (const [k, v] of Object.entries(headers)) {
    for (const s of [k.toLowerCase(), v]) {
      const b = Buffer.from(s);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed name/value block; names are lowercase, multiple values are NUL-separated. */
export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  const u32 = () => {
    if (pos + 4 > block.length) throw new Error('truncated SPDY header block');
    const v = block.readUInt32BE(pos);
    pos += 4;
    return v;
  };
  const str = () => {
    const len = u32();
    if (pos + len > block.length) throw new Error('truncated SPDY header block');
    const s = block.subarray(pos, pos + len).toString('utf8');
    pos += len;
    return s;
  };
  const count = u32();
  for (let i = 0; i < count; i++) {
    const name = str().toLowerCase();
    out[name] = str();
  }
  return out;
}

/**
 * Header blocks as one zlib stream, written as stored deflate blocks: a valid continuation for the
 * peer's single long-lived inflater that needs no compressor state on our side.
 */
export class StoredHeaderWriter {
  private started = false;

  wrap(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      const head = Buffer.alloc(6);
      head[0] = 0x78; // deflate, 32K window
      head[1] = 0xbb; // FDICT set, level bits 2, check bits make 0x78bb a multiple of 31
      head.writeUInt32BE(adler32(SPDY_DICTIONARY), 2);
      parts.push(head);
    }
    for (let off = 0; off === 0 || off < block.length; off += 0xffff) {
      const chunk = block.subarray(off, off + 0xffff);
      const h = Buffer.alloc(5);
      h[0] = 0x00; // BFINAL=0, BTYPE=00 (stored), padded to the byte
      h.writeUInt16LE(chunk.length, 1);
      h.writeUInt16LE(~chunk.length & 0xffff, 3);
      parts.push(h, chunk);
    }
    // An empty stored block is zlib's sync-flush marker: inflaters (Go's flate) hand out what they
    // have at this point instead of reading ahead into the next frame.
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

export function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** The peer's header blocks: one zlib context with the SPDY dictionary for the whole connection. */
class HeaderInflater {
  private readonly z = zlib.createInflate({ dictionary: SPDY_DICTIONARY });
  private out: Buffer[] = [];
  private failed: Error | undefined;

  constructor() {
    this.z.on('data', (d: Buffer) => this.out.push(d));
    this.z.on('error', (err) => (this.failed = err));
  }

  inflate(chunk: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.z.write(chunk);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        if (this.failed) return reject(this.failed);
        const b = Buffer.concat(this.out);
        this.out = [];
        resolve(b);
      });
    });
  }

  close(): void {
    this.z.destroy();
  }
}

// ---------------------------------------------------------------- decisions (pure)

/** Where a forwarded connection for `pod`'s `port` goes, or why it may not. */
export function forwardTarget(pod: Pod, port: number, podCIDR: string): { host: string; port: number } | { error: string } {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: `invalid port ${JSON.stringify(port)}` };
  if (pod.status?.phase !== 'Running') return { error: `pod ${pod.metadata.name} is not running (phase ${pod.status?.phase ?? 'Pending'})` };
  // A host-network Pod shares the host's namespace: its ports are on loopback.
  if (pod.spec.hostNetwork) return { host: '127.0.0.1', port };
  const ip = pod.status?.podIP;
  if (!ip) return { error: `pod ${pod.metadata.name} has no IP yet` };
  if (!net.isIPv4(ip) || !cidrContains(podCIDR, ip)) return { error: `pod ${pod.metadata.name} has IP ${ip}, outside the pod network ${podCIDR}` };
  return { host: ip, port };
}

/** `/api/v1/namespaces/NS/pods/NAME/portforward` -> namespace and name. */
export function parsePortForwardPath(url: string | undefined): { namespace: string; name: string } | undefined {
  const pathname = (url ?? '').split('?')[0];
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward\/?$/.exec(pathname);
  if (!m) return undefined;
  try {
    return { namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- the session

export interface Transport {
  write(buf: Buffer): boolean;
  close(): void;
  pause(): void;
  resume(): void;
  onDrain(fn: () => void): void;
}

interface StreamState {
  id: number;
  type: 'error' | 'data';
  requestId: string;
  port: number;
  socket?: net.Socket;
  /** Bytes kubectl sent before the Pod connection was up. */
  pending: Buffer[];
  remoteFin: boolean;
  localFin: boolean;
}

export type Dial = (host: string, port: number) => net.Socket;

/** One SPDY connection from kubectl: streams in, Pod connections out. */
export class PortForwardSession {
  private buf: Buffer = Buffer.alloc(0);
  private queue: Promise<void> = Promise.resolve();
  private readonly inflater = new HeaderInflater();
  private readonly headers = new StoredHeaderWriter();
  private readonly streams = new Map<number, StreamState>();
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly resolveTarget: (port: number) => { host: string; port: number } | { error: string },
    private readonly dial: Dial = (host, port) => net.connect({ host, port }),
    private readonly onError: (msg: string) => void = () => undefined,
  ) {}

  /** Bytes from kubectl (a TCP chunk, or one WebSocket message's payload). */
  feed(chunk: Buffer): void {
    if (this.closed) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let frames: Frame[];
    try {
      ({ frames, rest: this.buf } = parseFrames(this.buf));
    } catch (err) {
      this.fail(`bad SPDY input: ${(err as Error).message}`);
      return;
    }
    for (const f of frames) this.queue = this.queue.then(() => this.handle(f)).catch((err) => this.fail(`port-forward: ${(err as Error).message}`));
  }

  /** The connection from kubectl is gone: drop every Pod connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.socket?.destroy();
    this.streams.clear();
    this.inflater.close();
  }

  private fail(msg: string): void {
    this.onError(msg);
    this.close();
    this.transport.close();
  }

  private send(buf: Buffer): void {
    if (this.closed) return;
    if (!this.transport.write(buf)) {
      // kubectl reads slower than the Pod writes: stop reading the Pods until it catches up.
      for (const s of this.streams.values()) s.socket?.pause();
      this.transport.onDrain(() => {
        for (const s of this.streams.values()) s.socket?.resume();
      });
    }
  }

  private async handle(f: Frame): Promise<void> {
    if (this.closed) return;
    if (!f.control) return this.onData(f.streamId, f.flags, f.data);
    const p = f.payload;
    switch (f.type) {
      case SPDY.SYN_STREAM: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflater.inflate(p.subarray(10)));
        return this.onSynStream(id, f.flags, headers);
      }
      case SPDY.HEADERS:
        await this.inflater.inflate(p.subarray(4)); // keeps the shared zlib context in step
        return;
      case SPDY.SYN_REPLY:
        await this.inflater.inflate(p.subarray(4));
        return;
      case SPDY.RST_STREAM: {
        const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
        s?.socket?.destroy();
        if (s) this.streams.delete(s.id);
        return;
      }
      case SPDY.PING:
        // Our own pings would be even; kubectl's are odd and are echoed.
        if (p.readUInt32BE(0) % 2 === 1) this.send(controlFrame(SPDY.PING, 0, p));
        return;
      case SPDY.GOAWAY:
        this.close();
        this.transport.close();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE: spdystream does no flow control
    }
  }

  private onSynStream(id: number, flags: number, h: Record<string, string>): void {
    const type = h.streamtype;
    const state: StreamState = {
      id,
      type: type === 'error' ? 'error' : 'data',
      requestId: h.requestid ?? '',
      port: Number(h.port),
      pending: [],
      remoteFin: (flags & FLAG_FIN) !== 0,
      localFin: false,
    };
    const reply = Buffer.alloc(4);
    reply.writeUInt32BE(id);
    this.send(controlFrame(SPDY.SYN_REPLY, 0, Buffer.concat([reply, this.headers.wrap(encodeHeaderBlock({}))])));
    if (type !== 'error' && type !== 'data') {
      this.send(controlFrame(SPDY.RST_STREAM, 0, Buffer.concat([reply, u32(1)])));
      return;
    }
    this.streams.set(id, state);
    if (state.type === 'data') this.connect(state);
  }

  private errorStreamFor(s: StreamState): StreamState | undefined {
    for (const x of this.streams.values()) if (x.type === 'error' && x.requestId === s.requestId) return x;
    return undefined;
  }

  private finish(s: StreamState, message?: string): void {
    if (s.localFin) return;
    if (message) this.sendData(s.id, Buffer.from(message));
    s.localFin = true;
    this.send(dataFrame(s.id, FLAG_FIN, Buffer.alloc(0)));
    if (s.remoteFin) this.streams.delete(s.id);
  }

  private sendData(id: number, data: Buffer): void {
    for (let off = 0; off < data.length; off += MAX_DATA_FRAME) this.send(dataFrame(id, 0, data.subarray(off, off + MAX_DATA_FRAME)));
  }

  private connect(s: StreamState): void {
    const target = this.resolveTarget(s.port);
    const errStream = () => this.errorStreamFor(s);
    if ('error' in target) {
      const e = errStream();
      if (e) this.finish(e, `error forwarding port ${s.port}: ${target.error}`);
      this.finish(s);
      return;
    }
    const socket = this.dial(target.host, target.port);
    s.socket = socket;
    socket.on('connect', () => {
      for (const b of s.pending) socket.write(b);
      s.pending = [];
      if (s.remoteFin) socket.end();
    });
    socket.on('data', (d: Buffer) => this.sendData(s.id, d));
    socket.on('end', () => {
      this.finish(s);
      const e = errStream();
      if (e) this.finish(e);
    });
    socket.on('error', (err) => {
      const e = errStream();
      if (e) this.finish(e, `error forwarding port ${s.port} to pod: ${err.message}`);
      this.finish(s);
    });
    socket.on('close', () => {
      if (!s.localFin) this.finish(s);
    });
  }

  private onData(id: number, flags: number, data: Buffer): void {
    const s = this.streams.get(id);
    if (!s) return;
    if (data.length) {
      if (s.type === 'data') {
        if (s.socket && !s.socket.connecting) {
          if (!s.socket.write(data)) {
            this.transport.pause();
            s.socket.once('drain', () => this.transport.resume());
          }
        } else s.pending.push(data);
      }
    }
    if (flags & FLAG_FIN) {
      s.remoteFin = true;
      if (s.type === 'data' && s.socket && !s.socket.connecting) s.socket.end();
      if (s.localFin) this.streams.delete(id);
    }
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

// ---------------------------------------------------------------- the upgrade handler (adapter)

export interface PortForwardDeps {
  client: Pick<ApiClient, 'get'>;
  podCIDR: string;
  logger: { warn(o: unknown, m?: string): void; debug?(o: unknown, m?: string): void };
  dial?: Dial;
}

function refuse(socket: Duplex, err: StatusError): void {
  const body = JSON.stringify(err.status);
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' }[err.status.code] ?? 'Error';
  socket.end(`HTTP/1.1 ${err.status.code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Serves `pods/NAME/portforward` upgrades (WebSocket-tunnelled SPDY, or SPDY). */
export function portForwardUpgradeHandler(deps: PortForwardDeps): UpgradeHandler {
  // `SPDY/3.1+portforward.k8s.io` is not an RFC 6455 token ('/' is a separator), so `ws` would refuse
  // it: we take the header off the request and put the answer back on the 101 ourselves.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const tunneled = new WeakSet<IncomingMessage>();
  wss.on('headers', (headers: string[], req: IncomingMessage) => {
    if (tunneled.has(req)) headers.push(`Sec-WebSocket-Protocol: ${TUNNELED_PROTOCOL}`);
  });
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = parsePortForwardPath(req.url);
    if (!target) return false;
    void (async () => {
      const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
      const isWebSocket = upgrade === 'websocket';
      const isSpdy = upgrade === 'spdy/3.1';
      let pod: Pod;
      try {
        if (isWebSocket && !String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).includes(TUNNELED_PROTOCOL)) {
          throw errors.badRequest(`port-forward over WebSocket needs the ${TUNNELED_PROTOCOL} subprotocol`);
        }
        if (!isWebSocket && !isSpdy) throw errors.badRequest(`unsupported upgrade ${JSON.stringify(upgrade)}: use SPDY/3.1 or websocket`);
        if (isSpdy && !String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((s) => s.trim()).includes(PORTFORWARD_PROTOCOL)) {
          throw errors.badRequest(`X-Stream-Protocol-Version must include ${PORTFORWARD_PROTOCOL}`);
        }
        pod = await deps.client.get<Pod>(R.pods, target.namespace, target.name);
        if (pod.status?.phase !== 'Running') throw errors.badRequest(`pod ${target.name} is not running (phase ${pod.status?.phase ?? 'Pending'})`);
      } catch (err) {
        refuse(socket, isStatusError(err) ? err : errors.internal((err as Error).message));
        return;
      }
      const resolveTarget = (port: number) => forwardTarget(pod, port, deps.podCIDR);
      const log = (msg: string) => deps.logger.warn({ pod: `${target.namespace}/${target.name}` }, msg);
      if (isWebSocket) {
        delete req.headers['sec-websocket-protocol'];
        tunneled.add(req);
        wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
          const session = new PortForwardSession(
            {
              write: (b) => {
                ws.send(b, { binary: true });
                return ws.bufferedAmount < 4 * 1024 * 1024;
              },
              close: () => ws.close(),
              pause: () => ws.pause(),
              resume: () => ws.resume(),
              onDrain: (fn) => {
                const check = () => (ws.bufferedAmount < 1024 * 1024 ? fn() : setTimeout(check, 20));
                setTimeout(check, 20);
              },
            },
            resolveTarget,
            deps.dial,
            log,
          );
          ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => session.feed(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer)));
          ws.on('close', () => session.close());
          ws.on('error', () => session.close());
        });
        return;
      }
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORTFORWARD_PROTOCOL}\r\n\r\n`);
      const session = new PortForwardSession(
        {
          write: (b) => socket.write(b),
          close: () => socket.end(),
          pause: () => socket.pause(),
          resume: () => socket.resume(),
          onDrain: (fn) => socket.once('drain', fn),
        },
        resolveTarget,
        deps.dial,
        log,
      );
      if (head.length) session.feed(head);
      socket.on('data', (d: Buffer) => session.feed(d));
      socket.on('close', () => session.close());
      socket.on('error', () => session.close());
    })();
    return true;
  };
}
