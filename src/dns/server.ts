// The cluster DNS server: UDP and TCP on every listen address, answering cluster names from the
// in-memory index and forwarding the rest. It shares the process with the API server, so the query
// path is synchronous and allocation-light for cluster names (an encoded-response cache keyed by the
// case-folded question, patched with the new ID on a hit and dropped wholesale whenever the index
// changes), and everything that waits on the network (forwarding, TCP clients) is bounded.

import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import dnsPacket from 'dns-packet';
import { ClusterDNSIndex, type AnswerConfig, type DNSAnswer, type RR } from './records.js';
import { Forwarder, parseUpstream, type ForwarderOptions } from './forward.js';
import { RCODE, buildResponse, className, emptyResponse, parseQuery, patchCached, queryName, relayResponse, typeName, type ParsedQuery } from './wire.js';
import { normalizeName } from './names.js';
import type { LeveledLogger } from '../util/log.js';

export type DNSLogger = Pick<LeveledLogger, 'info' | 'warn' | 'error'> & Partial<Pick<LeveledLogger, 'debug'>>;

export interface DNSServerOptions {
  index: ClusterDNSIndex;
  domain: string;
  ttl: number;
  /** port 0 picks a free port, the same one for UDP and TCP. */
  listen: { address: string; port: number }[];
  /** 'ip' or 'ip:port' ('[v6]:port'); [] answers SERVFAIL for names outside the cluster. */
  upstreams: string[];
  logger?: DNSLogger;
  /** See AnswerConfig.pods. */
  pods?: AnswerConfig['pods'];
  /** Service and pod CIDRs: unknown reverse names inside them are NXDOMAIN instead of forwarded. */
  reverseCIDRs?: string[];
  forwarder?: Omit<ForwarderOptions, 'upstreams' | 'logger'>;
  maxTcpConnections?: number;
  tcpIdleTimeoutMs?: number;
  /** Entries of the encoded-response cache; 0 turns it off. */
  responseCacheSize?: number;
}

export interface DNSServerStats {
  queries: number;
  udp: number;
  tcp: number;
  cacheHits: number;
  forwarded: number;
  servfail: number;
  formerr: number;
  truncated: number;
  dropped: number;
  errors: number;
  tcpConnections: number;
  /** Answers sent, by the RCODE in their header (NOERROR covers NODATA; BADVERS shows as NOERROR). */
  responses: Record<string, number>;
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** Larger UDP queries are not queries: a name is 255 bytes, an OPT with options a few dozen more. */
export const MAX_UDP_QUERY = 1024;
/** How deep an ExternalName pointing at another ExternalName is followed inside the cluster. */
const MAX_CHASE = 8;
/** A TCP client that does not read its answers is cut off rather than buffered for. */
const MAX_TCP_BACKLOG = 256 * 1024;
/** Questions a TCP connection may have waiting on upstreams before we stop reading it. */
const MAX_TCP_PENDING = 32;

interface Listener {
  address: string;
  port: number;
  udp: dgram.Socket;
  tcp: net.Server;
}

export class DNSServer {
  private readonly index: ClusterDNSIndex;
  private readonly cfg: AnswerConfig;
  private readonly log?: DNSLogger;
  private readonly listeners: Listener[] = [];
  private readonly tcpClients = new Set<net.Socket>();
  private forwarder?: Forwarder;
  private readonly cache = new Map<string, Buffer>();
  private cacheGen = -1;
  private readonly cacheSize: number;
  private lastErrorLog = 0;
  private readonly st: Omit<DNSServerStats, 'responses'> = { queries: 0, udp: 0, tcp: 0, cacheHits: 0, forwarded: 0, servfail: 0, formerr: 0, truncated: 0, dropped: 0, errors: 0, tcpConnections: 0 };
  /** Indexed by the header's 4-bit RCODE: counted where an answer leaves, one array slot per send. */
  private readonly rcodes = new Array<number>(16).fill(0);

  constructor(private readonly opts: DNSServerOptions) {
    this.index = opts.index;
    this.log = opts.logger;
    const domain = normalizeName(opts.domain);
    this.cfg = { domain, ttl: opts.ttl, pods: opts.pods, reverseCIDRs: opts.reverseCIDRs };
    this.cacheSize = opts.responseCacheSize ?? 20_000;
    for (const u of opts.upstreams) parseUpstream(u);
  }

  /** Where it actually listens (port 0 resolved); UDP and TCP share the port. */
  get addresses(): { address: string; port: number }[] {
    return this.listeners.map((l) => ({ address: l.address, port: l.port }));
  }

  /** Upstreams in use after removing ourselves (a forwarding loop). */
  get upstreams(): string[] {
    return this.forwarder?.upstreams.map((u) => (u.family === 6 ? `[${u.host}]:${u.port}` : `${u.host}:${u.port}`)) ?? [];
  }

  stats(): DNSServerStats & { forwarder?: Forwarder['stats']; cacheEntries: number } {
    const responses: Record<string, number> = {};
    this.rcodes.forEach((n, i) => {
      if (n > 0) responses[RCODE_NAMES[i] ?? `RCODE${i}`] = n;
    });
    return { ...this.st, responses, tcpConnections: this.tcpClients.size, forwarder: this.forwarder ? { ...this.forwarder.stats } : undefined, cacheEntries: this.cache.size };
  }

  async start(): Promise<void> {
    try {
      for (const l of this.opts.listen) this.listeners.push(await this.bind(l.address, l.port));
    } catch (err) {
      await this.stop();
      throw err;
    }
    const upstreams = this.opts.upstreams.filter((u) => {
      const loop = this.isSelf(parseUpstream(u));
      if (loop) this.log?.warn({ upstream: u }, 'dns: ignoring upstream that is this server (forwarding loop)');
      return !loop;
    });
    this.forwarder = new Forwarder({ ...this.opts.forwarder, upstreams, logger: this.log });
    this.log?.info({ listen: this.addresses, upstreams: this.upstreams, domain: this.cfg.domain }, 'dns server listening');
  }

  async stop(): Promise<void> {
    this.forwarder?.close();
    this.forwarder = undefined;
    for (const c of this.tcpClients) c.destroy();
    this.tcpClients.clear();
    const ls = this.listeners.splice(0);
    await Promise.all(
      ls.map(
        (l) =>
          new Promise<void>((resolve) => {
            try {
              l.udp.close();
            } catch {
              // already closed
            }
            l.tcp.close(() => resolve());
          }),
      ),
    );
    this.cache.clear();
  }

  private isSelf(u: { host: string; port: number }): boolean {
    for (const l of this.listeners) {
      if (l.port !== u.port) continue;
      if (l.address === u.host) return true;
      if (l.address === '0.0.0.0' || l.address === '::') {
        if (u.host.startsWith('127.') || u.host === '::1') return true;
        for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.address === u.host) return true;
      }
    }
    return false;
  }

  private async bind(address: string, port: number): Promise<Listener> {
    const family = net.isIPv6(address) ? 'udp6' : 'udp4';
    // With port 0 the UDP socket picks the port and TCP must get the same one; retry on a clash.
    for (let tries = 0; ; tries++) {
      const udp = dgram.createSocket({ type: family, reuseAddr: false });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, address, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      const actual = udp.address().port;
      const tcp = net.createServer((sock) => this.onTcp(sock));
      tcp.maxConnections = this.opts.maxTcpConnections ?? 256;
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ port: actual, host: address, exclusive: true }, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        udp.close();
        if (port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && tries < 20) continue;
        throw err;
      }
      try {
        // Absorb bursts; the kernel caps this at net.core.rmem_max.
        udp.setRecvBufferSize(4 * 1024 * 1024);
        udp.setSendBufferSize(4 * 1024 * 1024);
      } catch {
        // not fatal
      }
      udp.on('error', (err) => this.logError(err, 'dns udp socket error'));
      udp.on('message', (msg, rinfo) => this.onUdp(udp, msg, rinfo));
      tcp.on('error', (err) => this.logError(err, 'dns tcp server error'));
      return { address, port: actual, udp, tcp };
    }
  }

  private onUdp(sock: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.st.udp++;
    if (msg.length > MAX_UDP_QUERY) {
      this.st.dropped++;
      return;
    }
    try {
      this.handle(msg, false, (out) => {
        this.rcodes[out.length > 3 ? out[3] & 0xf : 0]++;
        try {
          sock.send(out, rinfo.port, rinfo.address);
        } catch {
          // the socket closed while a forwarded answer was on its way (stop()): nothing to send on
        }
      });
    } catch (err) {
      this.logError(err, 'dns: failed to answer a UDP query');
    }
  }

  private onTcp(sock: net.Socket): void {
    this.tcpClients.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(this.opts.tcpIdleTimeoutMs ?? 10_000, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.tcpClients.delete(sock));
    let buf = Buffer.alloc(0);
    let waiting = 0;
    const reply = (out: Buffer) => {
      if (sock.destroyed) return;
      this.rcodes[out.length > 3 ? out[3] & 0xf : 0]++;
      if (sock.writableLength > MAX_TCP_BACKLOG) {
        sock.destroy();
        return;
      }
      const framed = Buffer.allocUnsafe(out.length + 2);
      framed.writeUInt16BE(out.length, 0);
      out.copy(framed, 2);
      sock.write(framed);
    };
    sock.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (len < 12) {
          this.st.dropped++;
          sock.destroy();
          return;
        }
        this.st.tcp++;
        let later = false;
        try {
          later = this.handle(msg, true, (out) => {
            reply(out);
            if (later && --waiting < MAX_TCP_PENDING && sock.isPaused()) sock.resume();
          });
        } catch (err) {
          this.logError(err, 'dns: failed to answer a TCP query');
        }
        if (later && ++waiting >= MAX_TCP_PENDING) sock.pause();
      }
    });
  }

  /**
   * Answers one query through `send`: synchronously for cluster names (returns false), later for
   * forwarded ones (returns true).
   */
  private handle(msg: Buffer, tcp: boolean, send: (b: Buffer) => void): boolean {
    this.st.queries++;
    const r = parseQuery(msg);
    if (!r.ok) {
      if ('drop' in r) {
        this.st.dropped++;
        return false;
      }
      if (r.rcode === RCODE.FORMERR) this.st.formerr++;
      send(emptyResponse(msg, r.id, r.flags, r.questionEnd, r.rcode, r.edns));
      return false;
    }
    const q = r.q;
    const limit = tcp ? 65535 : q.edns ? q.edns.udpSize : 512;
    const gen = this.index.generation;
    if (gen !== this.cacheGen) {
      this.cache.clear();
      this.cacheGen = gen;
    }
    const key = `${q.wireName}${q.qtype}/${q.qclass}/${limit}${q.edns ? (q.edns.dnssecOK ? 'D' : 'E') : 'N'}`;
    const cached = this.cache.get(key);
    if (cached) {
      this.st.cacheHits++;
      send(patchCached(cached, msg, q));
      return false;
    }
    const name = queryName(q);
    const ans = this.index.answer({ name, type: typeName(q.qtype), class: className(q.qclass) }, this.cfg);
    if (!ans.forward) {
      const out = this.encode(msg, q, ans, limit);
      if (this.cacheSize > 0) {
        // Wholesale reset instead of LRU upkeep on the hot path; the working set refills in one pass.
        if (this.cache.size >= this.cacheSize) this.cache.clear();
        this.cache.set(key, out);
      }
      send(out);
      return false;
    }
    this.st.forwarded++;
    const done = (out: Buffer) => {
      if (out.length >= 4 && (out[3] & 0xf) === RCODE.SERVFAIL) this.st.servfail++;
      try {
        send(out);
      } catch (err) {
        this.logError(err, 'dns: failed to send a forwarded answer');
      }
    };
    const work = ans.cnameTarget !== undefined ? this.chase(msg, q, ans, limit) : this.forward(msg, q, name, limit);
    work.then(done, (err) => {
      this.logError(err, 'dns: forwarding failed');
      done(emptyResponse(msg, q.id, q.flags, q.questionEnd, RCODE.SERVFAIL, q.edns));
    });
    return true;
  }

  private encode(msg: Buffer, q: ParsedQuery, ans: DNSAnswer, limit: number): Buffer {
    const out = buildResponse(msg, q, { rcode: RCODE[ans.rcode], authoritative: ans.authoritative === true, answers: ans.answers, authorities: ans.authority, additionals: ans.additional }, limit);
    if (out[2] & 0x02) this.st.truncated++;
    return out;
  }

  private async forward(msg: Buffer, q: ParsedQuery, name: string, limit: number): Promise<Buffer> {
    const res = this.forwarder ? await this.forwarder.query(name, q.qtype, q.qclass) : ({ ok: false } as const);
    if (!res.ok) return emptyResponse(msg, q.id, q.flags, q.questionEnd, RCODE.SERVFAIL, q.edns);
    const out = relayResponse(res.response, msg, q, limit);
    if (out[2] & 0x02) this.st.truncated++;
    return out;
  }

  /**
   * ExternalName: the CNAME plus the target's records in one answer, as CoreDNS does. A target inside
   * the cluster domain is answered from the index; others upstream. When the upstream fails the CNAME
   * alone is returned and the client's resolver follows it itself.
   */
  private async chase(msg: Buffer, q: ParsedQuery, first: DNSAnswer, limit: number): Promise<Buffer> {
    const answers: RR[] = [...first.answers];
    let authority: RR[] = [];
    let rcode: DNSAnswer['rcode'] = 'NOERROR';
    let target = first.cnameTarget;
    const qtype = typeName(q.qtype);
    const seen = new Set<string>();
    for (let depth = 0; target !== undefined && depth < MAX_CHASE && !seen.has(target); depth++) {
      seen.add(target);
      const inner = this.index.answer({ name: target, type: qtype }, this.cfg);
      if (!inner.forward) {
        answers.push(...inner.answers);
        rcode = inner.rcode;
        authority = inner.authority;
        target = undefined;
        break;
      }
      if (inner.cnameTarget !== undefined) {
        answers.push(...inner.answers);
        target = inner.cnameTarget;
        continue;
      }
      const res = this.forwarder ? await this.forwarder.query(target, q.qtype, 1) : ({ ok: false } as const);
      target = undefined;
      if (!res.ok) break;
      let up: ReturnType<typeof dnsPacket.decode>;
      try {
        up = dnsPacket.decode(res.response);
      } catch {
        break;
      }
      // Only record types dns-packet can re-encode faithfully are carried over.
      for (const a of up.answers ?? []) if (a.type === 'A' || a.type === 'AAAA' || a.type === 'CNAME') answers.push(a as RR);
      const upRcode = (up.flags ?? 0) & 0xf;
      if (upRcode === RCODE.NXDOMAIN) rcode = 'NXDOMAIN';
      authority = (up.authorities ?? []).filter((a): a is RR => a.type === 'SOA');
    }
    return this.encode(msg, q, { rcode, answers, authority, authoritative: true }, limit);
  }

  private logError(err: unknown, msg: string): void {
    this.st.errors++;
    // A flood of bad input must not become a flood of log lines.
    const now = Date.now();
    if (now - this.lastErrorLog < 1000) return;
    this.lastErrorLog = now;
    this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  }
}
