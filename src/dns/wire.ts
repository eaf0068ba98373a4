// The DNS wire format on the hot path. Queries are parsed by hand (header, one question, an optional
// OPT) because that is all a query may hold and because it is several times faster than a general
// decoder; answers are encoded with dns-packet. The question bytes of a query are echoed verbatim, so
// a client's 0x20 case randomisation survives and a cached response can be re-used for any casing.

import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Extended RCODE 16: an EDNS version we do not speak (RFC 6891 6.1.3). */
export const BADVERS = 16;

const F_QR = 0x8000;
const F_AA = 0x0400;
const F_TC = 0x0200;
const F_RD = 0x0100;
const F_RA = 0x0080;
const F_CD = 0x0010;

/** What we advertise: the DNS Flag Day 2020 size, safe from fragmentation on any path. */
export const SERVER_UDP_SIZE = 1232;
/**
 * Largest UDP answer we send, whatever the client claims: larger ones fragment, and a small query
 * for a big headless Service would make us an amplifier. Clients get the rest over TCP.
 */
export const MAX_UDP_RESPONSE = SERVER_UDP_SIZE;

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV',
  35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 50: 'NSEC3',
  52: 'TLSA', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 251: 'IXFR', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};
const CLASS_NAMES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

export function className(c: number): string {
  return CLASS_NAMES[c] ?? `CLASS${c}`;
}

export interface EDNS {
  /** Requester's UDP payload size, clamped to [512, MAX_UDP_RESPONSE]. */
  udpSize: number;
  version: number;
  dnssecOK: boolean;
}

export interface ParsedQuery {
  id: number;
  flags: number;
  /** Offset just past the question (header + qname + qtype + qclass). */
  questionEnd: number;
  /** Offset just past the qname's terminating zero. */
  qnameEnd: number;
  qtype: number;
  qclass: number;
  /** The wire qname, lower-cased, as a latin1 string: a cheap, exact cache key. */
  wireName: string;
  edns?: EDNS;
}

export type ParseResult =
  | { ok: true; q: ParsedQuery }
  /** Answer with this rcode; questionEnd is 0 when the question itself is unusable. */
  | { ok: false; rcode: number; id: number; flags: number; questionEnd: number; edns?: EDNS }
  /** Not worth an answer (a response, or too short to carry an ID): drop silently. */
  | { ok: false; drop: true };

const DROP = { ok: false, drop: true } as const;

export function parseQuery(msg: Buffer): ParseResult {
  if (msg.length < 12) return DROP;
  const id = (msg[0] << 8) | msg[1];
  const flags = (msg[2] << 8) | msg[3];
  // Never answer a response: two servers pointed at each other would ping-pong forever.
  if (flags & F_QR) return DROP;
  const qd = (msg[4] << 8) | msg[5];
  const an = (msg[6] << 8) | msg[7];
  const ns = (msg[8] << 8) | msg[9];
  const ar = (msg[10] << 8) | msg[11];
  const fail = (rcode: number, questionEnd = 0, edns?: EDNS) => ({ ok: false as const, rcode, id, flags, questionEnd, edns });
  if (qd !== 1 || an !== 0 || ns !== 0) return fail(RCODE.FORMERR);

  let off = 12;
  let total = 0;
  let refused = false;
  for (;;) {
    if (off >= msg.length) return fail(RCODE.FORMERR);
    const len = msg[off];
    if (len === 0) {
      off++;
      break;
    }
    // Compression pointers have nothing to point at in a question; bit patterns 01/10 are reserved.
    if (len > 63) return fail(RCODE.FORMERR);
    if (off + 1 + len > msg.length) return fail(RCODE.FORMERR);
    total += len + 1;
    if (total > 254) return fail(RCODE.FORMERR);
    for (let i = off + 1; i <= off + len; i++) {
      const c = msg[i];
      // Printable ASCII only, and no '.' or '\' inside a label: the dotted form must stay unambiguous.
      if (c < 0x21 || c > 0x7e || c === 0x2e || c === 0x5c) refused = true;
    }
    off += 1 + len;
  }
  const qnameEnd = off;
  if (off + 4 > msg.length) return fail(RCODE.FORMERR);
  const qtype = (msg[off] << 8) | msg[off + 1];
  const qclass = (msg[off + 2] << 8) | msg[off + 3];
  off += 4;
  const questionEnd = off;
  if (qtype === 0 || qtype === 41) return fail(RCODE.FORMERR, questionEnd);

  let edns: EDNS | undefined;
  for (let i = 0; i < ar; i++) {
    if (off >= msg.length) return fail(RCODE.FORMERR, questionEnd);
    const nameStart = off;
    off = skipName(msg, off);
    if (off < 0 || off + 10 > msg.length) return fail(RCODE.FORMERR, questionEnd);
    const type = (msg[off] << 8) | msg[off + 1];
    const rdlen = (msg[off + 8] << 8) | msg[off + 9];
    if (off + 10 + rdlen > msg.length) return fail(RCODE.FORMERR, questionEnd);
    if (type === 41) {
      // One OPT, owned by the root (RFC 6891 6.1.1).
      if (edns || msg[nameStart] !== 0) return fail(RCODE.FORMERR, questionEnd);
      const size = (msg[off + 2] << 8) | msg[off + 3];
      edns = {
        udpSize: Math.min(MAX_UDP_RESPONSE, Math.max(512, size)),
        version: msg[off + 5],
        dnssecOK: (msg[off + 6] & 0x80) !== 0,
      };
    }
    off += 10 + rdlen;
  }

  if (edns && edns.version !== 0) return fail(BADVERS, questionEnd, edns);
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return fail(RCODE.NOTIMP, questionEnd, edns);
  if (refused) return fail(RCODE.REFUSED, questionEnd, edns);
  const wireName = msg.toString('latin1', 12, qnameEnd).toLowerCase();
  return { ok: true, q: { id, flags, questionEnd, qnameEnd, qtype, qclass, wireName, edns } };
}

/** Offset past a (possibly compressed) name, or -1 when it runs off the buffer. */
export function skipName(buf: Buffer, off: number): number {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= buf.length) return -1;
    const len = buf[off];
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= buf.length ? off + 2 : -1;
    if (len & 0xc0) return -1;
    off += 1 + len;
  }
  return -1;
}

/** The dotted, lower-case form of the query name ('' for the root). */
export function queryName(q: ParsedQuery): string {
  const w = q.wireName;
  let out = '';
  let i = 0;
  while (i < w.length) {
    const len = w.charCodeAt(i);
    if (len === 0) break;
    if (out) out += '.';
    out += w.slice(i + 1, i + 1 + len);
    i += 1 + len;
  }
  return out;
}

/** Encodes a dotted name (validated by the caller) into wire labels. */
export function encodeName(name: string): Buffer {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (!n) return Buffer.from([0]);
  const labels = n.split('.');
  const out = Buffer.allocUnsafe(n.length + 2);
  let off = 0;
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new Error(`invalid DNS name ${JSON.stringify(name)}`);
    out[off++] = l.length;
    off += out.write(l, off, 'latin1');
  }
  out[off++] = 0;
  return out.subarray(0, off);
}

/** A standard recursive query, without EDNS (the forwarder falls back to TCP on truncation). */
export function buildQuery(id: number, wireName: Buffer, qtype: number, qclass: number): Buffer {
  const out = Buffer.allocUnsafe(12 + wireName.length + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(F_RD, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(0, 10);
  wireName.copy(out, 12);
  out.writeUInt16BE(qtype, 12 + wireName.length);
  out.writeUInt16BE(qclass, 14 + wireName.length);
  return out;
}

function optRR(edns: EDNS, extRcode: number): Buffer {
  const b = Buffer.alloc(11);
  b.writeUInt16BE(41, 1);
  b.writeUInt16BE(SERVER_UDP_SIZE, 3);
  b[5] = extRcode;
  // We do no DNSSEC, but RFC 3225 says the DO bit is echoed.
  if (edns.dnssecOK) b[7] = 0x80;
  return b;
}

function responseFlags(queryFlags: number, rcode: number, aa: boolean): number {
  return F_QR | (aa ? F_AA : 0) | (queryFlags & (F_RD | F_CD)) | F_RA | (rcode & 0xf) | (queryFlags & 0x7800);
}

/** Header + echoed question (+ OPT) with no records: errors and truncated answers. */
export function emptyResponse(msg: Buffer, id: number, queryFlags: number, questionEnd: number, rcode: number, edns: EDNS | undefined, extra = 0): Buffer {
  const opt = edns ? optRR(edns, rcode >> 4) : undefined;
  const qLen = questionEnd > 12 ? questionEnd - 12 : 0;
  const out = Buffer.allocUnsafe(12 + qLen + (opt ? opt.length : 0));
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(responseFlags(queryFlags, rcode, false) | extra, 2);
  out.writeUInt16BE(qLen ? 1 : 0, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(opt ? 1 : 0, 10);
  if (qLen) msg.copy(out, 12, 12, questionEnd);
  if (opt) opt.copy(out, 12 + qLen);
  return out;
}

export interface Sections {
  rcode: number;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals?: Answer[];
}

/**
 * A full response to `q`. When it is larger than `limit` the records are dropped and TC is set, so
 * the client retries over TCP (RFC 2181 9: partial RRsets would be worse than none).
 */
export function buildResponse(msg: Buffer, q: ParsedQuery, s: Sections, limit: number): Buffer {
  let body = dnsPacket.encode({ type: 'response', answers: s.answers, authorities: s.authorities, additionals: s.additionals ?? [] });
  const opt = q.edns ? optRR(q.edns, 0) : undefined;
  const qLen = q.questionEnd - 12;
  const fixed = qLen + (opt ? opt.length : 0);
  let len = fixed + body.length;
  if (len > limit && limit < 65535) return emptyResponse(msg, q.id, q.flags, q.questionEnd, s.rcode, q.edns, F_TC);
  // Over TCP there is no retry to fall back to: send as many records as fit in 64 KB, as CoreDNS does.
  for (let n = s.answers.length; len > limit && n > 0; ) {
    n = Math.max(0, Math.min(n - 1, Math.floor((n * (limit - fixed - 12)) / (body.length - 12)) - 1));
    body = dnsPacket.encode({ type: 'response', answers: s.answers.slice(0, n), authorities: s.authorities, additionals: [] });
    len = fixed + body.length;
  }
  if (len > limit) return emptyResponse(msg, q.id, q.flags, q.questionEnd, s.rcode, q.edns, F_TC);
  const out = Buffer.allocUnsafe(len);
  out.writeUInt16BE(q.id, 0);
  out.writeUInt16BE(responseFlags(q.flags, s.rcode, s.authoritative), 2);
  out.writeUInt16BE(1, 4);
  body.copy(out, 6, 6, 10);
  out.writeUInt16BE(body.readUInt16BE(10) + (opt ? 1 : 0), 10);
  msg.copy(out, 12, 12, q.questionEnd);
  body.copy(out, 12 + qLen, 12);
  if (opt) opt.copy(out, len - opt.length);
  return out;
}

/**
 * Re-use a cached response for a new query of the same key: its ID, RD/CD bits and the exact bytes of
 * its question name (the cache key is case-folded, the echo must not be).
 */
export function patchCached(cached: Buffer, msg: Buffer, q: ParsedQuery): Buffer {
  const out = Buffer.allocUnsafe(cached.length);
  cached.copy(out);
  out[0] = msg[0];
  out[1] = msg[1];
  out[2] = (out[2] & ~(F_RD >> 8)) | (msg[2] & (F_RD >> 8));
  out[3] = (out[3] & ~F_CD) | (msg[3] & F_CD);
  msg.copy(out, 12, 12, q.qnameEnd);
  return out;
}

export interface ScannedResponse {
  rcode: number;
  /** Offsets of every TTL field (OPT excluded), to age a cached copy. */
  ttlOffsets: number[];
  /** Smallest TTL in the answer, or the negative-caching TTL from the SOA (RFC 2308). */
  minTTL: number | undefined;
  /** Length without a trailing OPT record. */
  lengthWithoutOpt: number;
  hasOpt: boolean;
  truncated: boolean;
}

/** Walks an upstream response to find its TTLs; undefined when it is malformed. */
export function scanResponse(buf: Buffer, questionEnd: number): ScannedResponse | undefined {
  if (buf.length < 12) return undefined;
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  const ttlOffsets: number[] = [];
  let minAnswer: number | undefined;
  let soaNeg: number | undefined;
  let off = questionEnd;
  let lengthWithoutOpt = buf.length;
  let hasOpt = false;
  for (let i = 0; i < an + ns + ar; i++) {
    const start = off;
    off = skipName(buf, off);
    if (off < 0 || off + 10 > buf.length) return undefined;
    const type = buf.readUInt16BE(off);
    const ttl = buf.readUInt32BE(off + 4);
    const rdlen = buf.readUInt16BE(off + 8);
    if (off + 10 + rdlen > buf.length) return undefined;
    if (type === 41) {
      hasOpt = true;
      if (i === an + ns + ar - 1) lengthWithoutOpt = start;
    } else {
      ttlOffsets.push(off + 4);
      if (i < an) minAnswer = minAnswer === undefined ? ttl : Math.min(minAnswer, ttl);
      else if (i < an + ns && type === 6 && rdlen >= 20) {
        const minimum = buf.readUInt32BE(off + 10 + rdlen - 4);
        soaNeg = Math.min(ttl, minimum);
      }
    }
    off += 10 + rdlen;
  }
  return {
    rcode: buf[3] & 0xf,
    ttlOffsets,
    minTTL: an > 0 ? minAnswer : soaNeg,
    lengthWithoutOpt,
    hasOpt,
    truncated: (buf[2] & (F_TC >> 8)) !== 0,
  };
}

/**
 * An upstream response (ID 0, no OPT) turned into our answer to `q`: the client's ID, RD/CD, its
 * question bytes, our OPT when it sent one, truncation to its limit.
 */
export function relayResponse(upstream: Buffer, msg: Buffer, q: ParsedQuery, limit: number): Buffer {
  const opt = q.edns ? optRR(q.edns, 0) : undefined;
  const len = upstream.length + (opt ? opt.length : 0);
  const rcode = upstream[3] & 0xf;
  if (len > limit) return emptyResponse(msg, q.id, q.flags, q.questionEnd, rcode, q.edns, F_TC);
  const out = Buffer.allocUnsafe(len);
  upstream.copy(out);
  out.writeUInt16BE(q.id, 0);
  // Keep the upstream's rcode; we are not authoritative, validated nothing (AD) and recurse (RA).
  out.writeUInt16BE(responseFlags(q.flags, rcode, false), 2);
  msg.copy(out, 12, 12, q.qnameEnd);
  if (opt) {
    opt.copy(out, upstream.length);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  }
  return out;
}

export function isTruncated(buf: Buffer): boolean {
  return buf.length >= 4 && (buf[2] & (F_TC >> 8)) !== 0;
}

export const FLAGS = { QR: F_QR, AA: F_AA, TC: F_TC, RD: F_RD, RA: F_RA, CD: F_CD };
