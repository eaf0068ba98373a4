// Forwarding for names outside the cluster domain: UDP to the upstream resolvers (the host's, from
// resolv.conf, or --upstream-dns), TCP when an answer comes back truncated, a small TTL-respecting
// LRU cache, identical questions in flight coalesced, and a hard deadline so a dead upstream costs a
// client one SERVFAIL within 2 s instead of a hang. The number of distinct questions in flight is
// bounded: a flood of random names gets SERVFAIL, not unbounded memory and sockets.

import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { buildQuery, encodeName, scanResponse } from './wire.js';
import { parseResolvConf } from './resolv.js';

export interface Upstream {
  host: string;
  port: number;
  family: 4 | 6;
}

export interface ForwarderOptions {
  /** 'ip', 'ip:port', '[v6]:port' */
  upstreams: string[];
  /** Whole-query deadline; the client gets SERVFAIL after it. */
  timeoutMs?: number;
  /** Wait this long for one upstream before asking the next (or asking again). */
  attemptTimeoutMs?: number;
  /** Distinct questions in flight at once. */
  maxInflight?: number;
  /** Cached answers (LRU). */
  cacheSize?: number;
  /** Upper bound on how long an answer is cached, whatever its TTL. */
  maxCacheTTL?: number;
  /** Cache time for a negative answer that carries no SOA. */
  negativeTTL?: number;
  logger?: { warn(obj: unknown, msg?: string): void; debug?(obj: unknown, msg?: string): void };
}

export type ForwardResult =
  /** The upstream's message: ID 0, our question layout, TTLs aged, no OPT. Shared: do not modify. */
  | { ok: true; response: Buffer; fromCache: boolean }
  | { ok: false; reason: 'timeout' | 'overload' | 'no-upstream' | 'closed' | 'refused' };

interface CacheEntry {
  buf: Buffer;
  storedAt: number;
  expires: number;
  ttlOffsets: number[];
}

interface Pending {
  id: number;
  key: string;
  query: Buffer;
  questionEnd: number;
  tried: Set<number>;
  refused: Set<number>;
  last: number;
  tcpBusy: boolean;
  attemptTimer?: NodeJS.Timeout;
  deadline: NodeJS.Timeout;
  resolve(r: ForwardResult): void;
}

const SERVFAIL = 2;
const REFUSED = 5;

export function parseUpstream(s: string): Upstream {
  const str = s.trim();
  let host = str;
  let port = 53;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(str);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else if (net.isIPv4(str.split(':')[0]) && str.includes(':')) {
    const [h, p] = str.split(':');
    host = h;
    port = Number(p);
  }
  const fam = net.isIP(host);
  if (!fam || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid upstream DNS server ${JSON.stringify(s)}: expected ip, ip:port or [ipv6]:port`);
  return { host, port, family: fam as 4 | 6 };
}

/**
 * The nameservers of a resolv.conf. Loopback stubs (127.0.0.53 of systemd-resolved, a local dnsmasq)
 * are kept: the DNS server runs in the host's network namespace where they are reachable, and they
 * are the host's real resolution path. The one address that would loop, our own listener, is removed
 * by DNSServer, which knows what it listens on.
 */
export function readResolvConf(path = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return parseResolvConf(text).nameservers;
}

export class Forwarder {
  readonly upstreams: Upstream[];
  private readonly timeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly maxInflight: number;
  private readonly cacheSize: number;
  private readonly maxCacheTTL: number;
  private readonly negativeTTL: number;
  private readonly sockets: (dgram.Socket | undefined)[] = [];
  private readonly connecting: (Promise<dgram.Socket> | undefined)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly inflight = new Map<string, Promise<ForwardResult>>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly tcpSockets = new Set<net.Socket>();
  private readonly udpSockets = new Set<dgram.Socket>();
  private rr = 0;
  private closed = false;
  readonly stats = { queries: 0, cacheHits: 0, sent: 0, answered: 0, timeouts: 0, overloads: 0, tcpFallbacks: 0, badResponses: 0 };

  constructor(private readonly opts: ForwarderOptions) {
    this.upstreams = opts.upstreams.map(parseUpstream);
    this.timeoutMs = opts.timeoutMs ?? 1500;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 500;
    this.maxInflight = opts.maxInflight ?? 1024;
    this.cacheSize = opts.cacheSize ?? 4096;
    this.maxCacheTTL = opts.maxCacheTTL ?? 30;
    this.negativeTTL = opts.negativeTTL ?? 5;
  }

  /** Resolves `name` upstream. Never rejects; never takes longer than timeoutMs (plus a TCP leg's rest). */
  query(name: string, qtype: number, qclass = 1): Promise<ForwardResult> {
    this.stats.queries++;
    if (this.closed) return Promise.resolve({ ok: false, reason: 'closed' });
    if (!this.upstreams.length) return Promise.resolve({ ok: false, reason: 'no-upstream' });
    const lname = name.toLowerCase();
    const key = `${lname}|${qtype}|${qclass}`;
    const hit = this.fromCache(key);
    if (hit) {
      this.stats.cacheHits++;
      return Promise.resolve({ ok: true, response: hit, fromCache: true });
    }
    const same = this.inflight.get(key);
    if (same) return same;
    if (this.pending.size >= this.maxInflight) {
      this.stats.overloads++;
      return Promise.resolve({ ok: false, reason: 'overload' });
    }
    let wire: Buffer;
    try {
      wire = encodeName(lname);
    } catch {
      return Promise.resolve({ ok: false, reason: 'refused' });
    }
    const p = new Promise<ForwardResult>((resolve) => {
      const id = this.freeId();
      const query = buildQuery(id, wire, qtype, qclass);
      const pend: Pending = {
        id,
        key,
        query,
        questionEnd: 12 + wire.length + 4,
        tried: new Set(),
        refused: new Set(),
        last: -1,
        tcpBusy: false,
        deadline: setTimeout(() => {
          this.stats.timeouts++;
          this.finish(pend, { ok: false, reason: 'timeout' });
        }, this.timeoutMs),
        resolve,
      };
      this.pending.set(id, pend);
      this.attempt(pend, this.rr++ % this.upstreams.length);
    });
    this.inflight.set(key, p);
    return p;
  }

  close(): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) this.finish(p, { ok: false, reason: 'closed' });
    for (const s of this.udpSockets) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
    this.udpSockets.clear();
    for (const t of this.tcpSockets) t.destroy();
    this.sockets.length = 0;
    this.connecting.length = 0;
    this.cache.clear();
  }

  get inflightCount(): number {
    return this.pending.size;
  }

  private freeId(): number {
    for (;;) {
      const id = randomInt(65536);
      if (!this.pending.has(id)) return id;
    }
  }

  private fromCache(key: string): Buffer | undefined {
    const e = this.cache.get(key);
    if (!e) return undefined;
    const now = Date.now();
    if (now >= e.expires) {
      this.cache.delete(key);
      return undefined;
    }
    this.cache.delete(key);
    this.cache.set(key, e);
    const elapsed = Math.floor((now - e.storedAt) / 1000);
    if (elapsed === 0) return e.buf;
    const out = Buffer.from(e.buf);
    for (const off of e.ttlOffsets) out.writeUInt32BE(Math.max(0, out.readUInt32BE(off) - elapsed), off);
    return out;
  }

  private attempt(p: Pending, idx: number): void {
    if (!this.pending.has(p.id)) return;
    // Round robin over the upstreams that have not refused outright; re-ask one when it is the only one.
    const n = this.upstreams.length;
    let pick = -1;
    for (let i = 0; i < n; i++) {
      const j = (idx + i) % n;
      if (!p.refused.has(j)) {
        pick = j;
        break;
      }
    }
    if (pick < 0) {
      this.finish(p, { ok: false, reason: 'refused' });
      return;
    }
    p.last = pick;
    p.tried.add(pick);
    clearTimeout(p.attemptTimer);
    p.attemptTimer = setTimeout(() => this.attempt(p, pick + 1), this.attemptTimeoutMs);
    this.socketFor(pick).then(
      (s) => {
        if (!this.pending.has(p.id)) return;
        this.stats.sent++;
        s.send(p.query, (err) => {
          if (err) this.onRefused(pick);
        });
      },
      () => this.onRefused(pick),
    );
  }

  private socketFor(i: number): Promise<dgram.Socket> {
    const ready = this.sockets[i];
    if (ready) return Promise.resolve(ready);
    let c = this.connecting[i];
    if (!c) {
      const u = this.upstreams[i];
      c = new Promise<dgram.Socket>((resolve, reject) => {
        const s = dgram.createSocket(u.family === 6 ? 'udp6' : 'udp4');
        this.udpSockets.add(s);
        // A connected socket only accepts datagrams from that upstream, and ICMP port-unreachable
        // surfaces as ECONNREFUSED, so a dead local resolver fails over at once instead of timing out.
        s.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ECONNREFUSED') this.onRefused(i);
          else this.opts.logger?.warn({ err: err.message, upstream: `${u.host}:${u.port}` }, 'dns upstream socket error');
        });
        s.on('message', (msg) => this.onMessage(i, msg));
        s.connect(u.port, u.host, () => {
          this.sockets[i] = s;
          resolve(s);
        });
        s.once('close', () => {
          this.udpSockets.delete(s);
          if (this.sockets[i] === s) this.sockets[i] = undefined;
          this.connecting[i] = undefined;
          reject(new Error('closed'));
        });
      });
      c.catch(() => undefined);
      this.connecting[i] = c;
    }
    return c;
  }

  private onRefused(i: number): void {
    for (const p of [...this.pending.values()]) {
      if (p.last !== i || p.tcpBusy) continue;
      p.refused.add(i);
      this.attempt(p, i + 1);
    }
  }

  private onMessage(i: number, msg: Buffer): void {
    if (msg.length < 12 || !(msg[2] & 0x80)) return;
    const p = this.pending.get(msg.readUInt16BE(0));
    if (!p || !p.tried.has(i) || p.tcpBusy) return;
    if (!sameQuestion(p.query, msg, p.questionEnd)) {
      this.stats.badResponses++;
      return;
    }
    if (msg[2] & 0x02) {
      this.stats.tcpFallbacks++;
      p.tcpBusy = true;
      clearTimeout(p.attemptTimer);
      void this.tcpQuery(this.upstreams[i], p.query).then((full) => {
        p.tcpBusy = false;
        if (!this.pending.has(p.id)) return;
        if (full && sameQuestion(p.query, full, p.questionEnd)) this.accept(p, i, full);
        else this.attempt(p, i + 1);
      });
      return;
    }
    this.accept(p, i, msg);
  }

  private accept(p: Pending, i: number, msg: Buffer): void {
    const scan = scanResponse(msg, p.questionEnd);
    if (!scan) {
      this.stats.badResponses++;
      return;
    }
    // A broken or unwilling upstream: ask another one while there is time.
    if ((scan.rcode === SERVFAIL || scan.rcode === REFUSED) && p.tried.size < this.upstreams.length) {
      this.attempt(p, i + 1);
      return;
    }
    const buf = Buffer.from(msg.subarray(0, scan.lengthWithoutOpt));
    if (scan.lengthWithoutOpt < msg.length) buf.writeUInt16BE(buf.readUInt16BE(10) - 1, 10);
    buf.writeUInt16BE(0, 0);
    this.stats.answered++;
    if (scan.rcode === 0 || scan.rcode === 3) {
      const ttl = Math.min(this.maxCacheTTL, scan.minTTL ?? this.negativeTTL);
      if (ttl > 0) this.store(p.key, buf, ttl, scan.ttlOffsets.filter((o) => o < buf.length));
    }
    this.finish(p, { ok: true, response: buf, fromCache: false });
  }

  private store(key: string, buf: Buffer, ttl: number, ttlOffsets: number[]): void {
    const now = Date.now();
    this.cache.delete(key);
    this.cache.set(key, { buf, storedAt: now, expires: now + ttl * 1000, ttlOffsets });
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }

  private finish(p: Pending, r: ForwardResult): void {
    if (this.pending.get(p.id) !== p) return;
    clearTimeout(p.attemptTimer);
    clearTimeout(p.deadline);
    this.pending.delete(p.id);
    this.inflight.delete(p.key);
    p.resolve(r);
  }

  private tcpQuery(u: Upstream, query: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = net.connect({ host: u.host, port: u.port });
      this.tcpSockets.add(sock);
      let acc = Buffer.alloc(0);
      let done = false;
      const end = (b?: Buffer) => {
        if (done) return;
        done = true;
        this.tcpSockets.delete(sock);
        sock.destroy();
        resolve(b);
      };
      sock.setTimeout(this.timeoutMs, () => end());
      sock.on('error', () => end());
      sock.on('close', () => end());
      sock.on('connect', () => {
        const len = Buffer.allocUnsafe(2);
        len.writeUInt16BE(query.length);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (d) => {
        acc = acc.length ? Buffer.concat([acc, d]) : d;
        if (acc.length >= 2) {
          const n = acc.readUInt16BE(0);
          if (acc.length >= 2 + n) end(Buffer.from(acc.subarray(2, 2 + n)));
        }
      });
    });
  }
}

/** Same ID-less question (name compared case-insensitively): a stray or spoofed datagram is ignored. */
function sameQuestion(query: Buffer, resp: Buffer, questionEnd: number): boolean {
  if (resp.length < questionEnd || resp.readUInt16BE(4) !== 1) return false;
  for (let i = questionEnd - 4; i < questionEnd; i++) if (query[i] !== resp[i]) return false;
  for (let i = 12; i < questionEnd - 4; i++) {
    let a = query[i];
    let b = resp[i];
    if (a >= 0x41 && a <= 0x5a) a |= 0x20;
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (a !== b) return false;
  }
  return true;
}
