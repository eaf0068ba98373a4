// The socket half of `kubelite dns lookup`: one question over UDP (TCP when the answer is truncated),
// checked against what was asked, and the host's route to an address (read with `ip route get`,
// which sends nothing).

import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, Packet } from 'dns-packet';
import { parseIpRouteJson, type RouteInfo } from './lookup.js';
import { isIPv4 } from '../util/ip.js';

export interface LookupAnswer {
  rcode: string;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  truncated: boolean;
  transport: 'udp' | 'tcp';
  ms: number;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

function rcodeOf(p: Packet): string {
  const n = (p.flags ?? 0) & 0xf;
  return RCODES[n] ?? `RCODE${n}`;
}

function encodeQuery(id: number, name: string, type: string): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: name.replace(/\.$/, ''), type: type as 'A', class: 'IN' }] });
}

/** The answer is to our question (id, name case-insensitively, type), not a stray or spoofed datagram. */
function matches(p: Packet, id: number, name: string, type: string): boolean {
  const q = p.questions?.[0];
  return p.id === id && p.type === 'response' && !!q && q.name.toLowerCase() === name.replace(/\.$/, '').toLowerCase() && q.type === type;
}

function udpOnce(server: string, port: number, name: string, type: string, timeoutMs: number): Promise<Packet | undefined> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65536);
    const sock = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (p: Packet | undefined, err?: Error) => {
      clearTimeout(timer);
      try {
        sock.close();
      } catch {
        // closed
      }
      if (err) reject(err);
      else resolve(p);
    };
    sock.on('error', (err) => finish(undefined, err));
    sock.on('message', (msg) => {
      let p: Packet;
      try {
        p = dnsPacket.decode(msg);
      } catch {
        return;
      }
      if (matches(p, id, name, type)) finish(p);
    });
    sock.connect(port, server, () => sock.send(encodeQuery(id, name, type)));
  });
}

function tcpOnce(server: string, port: number, name: string, type: string, timeoutMs: number): Promise<Packet> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65536);
    const sock = net.connect({ host: server, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error(`no answer over TCP from ${server}:${port} within ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error, p?: Packet) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(p!);
    };
    sock.on('error', (err) => done(err));
    sock.on('connect', () => sock.write(dnsPacket.streamEncode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: name.replace(/\.$/, ''), type: type as 'A', class: 'IN' }] })));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      try {
        const p = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        if (!matches(p, id, name, type)) done(new Error(`${server}:${port} answered another question over TCP`));
        else done(undefined, p);
      } catch (err) {
        done(new Error(`undecodable answer over TCP: ${(err as Error).message}`));
      }
    });
  });
}

/** Asks `server` one question: UDP, once more on silence, then TCP if the answer came back truncated. */
export async function lookupOnce(server: string, port: number, name: string, type: string, opts: { timeoutMs?: number; tries?: number } = {}): Promise<LookupAnswer> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const tries = opts.tries ?? 2;
  const t0 = performance.now();
  let p: Packet | undefined;
  for (let i = 0; i < tries && !p; i++) p = await udpOnce(server, port, name, type, timeoutMs);
  if (!p) throw new Error(`no answer from ${server}:${port} after ${tries} tries of ${timeoutMs} ms (is the DNS server running?)`);
  let transport: LookupAnswer['transport'] = 'udp';
  const truncated = ((p.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;
  if (truncated) {
    p = await tcpOnce(server, port, name, type, timeoutMs);
    transport = 'tcp';
  }
  return { rcode: rcodeOf(p), answers: p.answers ?? [], authorities: p.authorities ?? [], additionals: (p.additionals ?? []).filter((a) => a.type !== 'OPT'), truncated, transport, ms: performance.now() - t0 };
}

/** The host's route to `ip` (`ip -json route get`: a lookup in the kernel's tables, no packet sent). */
export function routeTo(ip: string): Promise<RouteInfo | undefined> {
  if (!isIPv4(ip)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    execFile('ip', ['-json', 'route', 'get', ip], { timeout: 5000 }, (err, stdout) => resolve(err ? undefined : parseIpRouteJson(stdout)));
  });
}
