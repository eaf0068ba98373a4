// A tiny authoritative DNS server on loopback that stands in for "the host's resolver" in tests and
// benchmarks, so no test ever sends a query to the machine's real resolver. Records are given per
// name; anything else is NXDOMAIN with an SOA. It can truncate over UDP (to exercise TCP fallback),
// answer late, or stay silent.

import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';

export interface StubRecords {
  [name: string]: { A?: string[]; AAAA?: string[]; TXT?: string[]; CNAME?: string; ttl?: number };
}

export interface StubOptions {
  records: StubRecords;
  /** Set TC on UDP answers with more than this many records (forces the TCP path). */
  truncateOverUdpAbove?: number;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
  /** Never answer (an upstream that black-holes queries). */
  silent?: boolean;
  /** Answer every question with this rcode instead. */
  rcode?: 'SERVFAIL' | 'REFUSED';
  /** Answer for another name than the one asked (what a spoofer or a broken middlebox sends). */
  wrongQuestion?: boolean;
}

export interface DNSStub {
  host: string;
  port: number;
  /** 'host:port', ready for --upstream-dns. */
  address: string;
  /** Questions received, as 'name TYPE' (lower case), UDP and TCP. */
  log: string[];
  udpQueries: number;
  tcpQueries: number;
  close(): Promise<void>;
}

export async function startDNSStub(opts: StubOptions): Promise<DNSStub> {
  const records = new Map(Object.entries(opts.records).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  const tcp = net.createServer();
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', resolve);
  });
  const sockets = new Set<net.Socket>();
  const stub: DNSStub = {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    log: [],
    udpQueries: 0,
    tcpQueries: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };

  const respond = (msg: Buffer, overUdp: boolean): Buffer | undefined => {
    let q: ReturnType<typeof dnsPacket.decode>;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    const question = q.questions?.[0];
    if (!question) return undefined;
    const name = question.name.toLowerCase();
    stub.log.push(`${name} ${question.type}`);
    const questions = opts.wrongQuestion ? [{ ...question, name: `x${question.name}` }] : q.questions;
    const base = { type: 'response' as const, id: q.id, questions };
    if (opts.rcode) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | (opts.rcode === 'SERVFAIL' ? 2 : 5) });
    const rec = records.get(name);
    const soa: Answer = { name: 'example', type: 'SOA', ttl: 60, data: { mname: 'ns.example', rname: 'hostmaster.example', serial: 1, refresh: 60, retry: 60, expire: 60, minimum: 30 } };
    if (!rec) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | 3, authorities: [soa] });
    const ttl = rec.ttl ?? 60;
    const answers: Answer[] = [];
    if (rec.CNAME) answers.push({ name, type: 'CNAME', ttl, data: rec.CNAME });
    else if (question.type === 'A') for (const ip of rec.A ?? []) answers.push({ name, type: 'A', ttl, data: ip });
    else if (question.type === 'AAAA') for (const ip of rec.AAAA ?? []) answers.push({ name, type: 'AAAA', ttl, data: ip });
    else if (question.type === 'TXT') for (const t of rec.TXT ?? []) answers.push({ name, type: 'TXT', ttl, data: t });
    if (overUdp && opts.truncateOverUdpAbove !== undefined && answers.length > opts.truncateOverUdpAbove) {
      return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.TRUNCATED_RESPONSE });
    }
    return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER, answers, authorities: answers.length ? [] : [soa] });
  };

  const later = (fn: () => void) => (opts.delayMs ? setTimeout(fn, opts.delayMs) : fn());

  udp.on('message', (msg, rinfo) => {
    stub.udpQueries++;
    if (opts.silent) return;
    const out = respond(msg, true);
    if (out) later(() => udp.send(out, rinfo.port, rinfo.address));
  });
  tcp.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        stub.tcpQueries++;
        if (opts.silent) continue;
        const out = respond(msg, false);
        if (!out) continue;
        const len = Buffer.alloc(2);
        len.writeUInt16BE(out.length);
        later(() => sock.write(Buffer.concat([len, out])));
      }
    });
  });
  return stub;
}

/** A loopback UDP+TCP port with nothing listening on it (an unreachable upstream). */
export async function closedLoopbackPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
