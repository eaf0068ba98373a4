// Certificates without openssl and without an ASN.1 library: a CA and leaf certificates, self-signed or
// signed by a CA (ECDSA or RSA CA keys), with ECDSA P-256 keys. Node's crypto makes the keys, exports
// the SubjectPublicKeyInfo and signs; this file only writes the DER around them (RFC 5280: a
// TBSCertificate of version 3 with the extensions below), which is a few dozen lines. One
// implementation behind the API server's PKI, the ingress default certificate and `kubelite tls create`.
//
// Why not @peculiar/x509 (which this replaced): loading it and its ASN.1 schema registry took a few
// hundred milliseconds and ~20 MiB that a long-running server would never give back, so the server had
// to run it in a child process — the largest single cost of a first start. Writing DER is a small,
// closed problem; reading certificates stays with Node's X509Certificate (cert-info.ts).

import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import net from 'node:net';

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface LeafOptions {
  commonName: string;
  dnsNames?: string[];
  /** must all be IP addresses: a typo fails instead of silently dropping a name clients need */
  ipAddresses?: string[];
  /** validity in days, default 825 (the longest browsers accept for a leaf) */
  days?: number;
  /** signs with this CA (ECDSA P-256/P-384 or RSA key); self-signed when omitted */
  ca?: KeyPairPem;
  /** extended key usage, default 'server' */
  usage?: 'server' | 'client' | 'both';
}

// ---------------------------------------------------------------- DER writing

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const nul = () => Buffer.from([0x05, 0x00]);
/** context-specific tag n: constructed (EXPLICIT / SEQUENCE-like) or primitive (IMPLICIT). */
const ctx = (n: number, constructed: boolean, ...parts: Buffer[]) => tlv((constructed ? 0xa0 : 0x80) | n, ...parts);

/** A non-negative INTEGER from big-endian bytes (a leading zero byte keeps it positive). */
function integer(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1] < 0x80) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, b[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

const smallInt = (n: number) => integer(Buffer.from([n]));

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [parts[0] * 40 + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** BIT STRING of whole bytes (keys, signatures). */
const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);

/** RFC 5280 time: UTCTime through 2049, GeneralizedTime after. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:T]/g, '');
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii')) : tlv(0x18, Buffer.from(iso, 'ascii'));
}

/** A Name with one CN (UTF8String). */
function cnName(commonName: string): Buffer {
  return seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand `::` and any embedded IPv4 tail into 8 groups.
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** KeyUsage bits (0 = digitalSignature ... 6 = cRLSign) as a minimal BIT STRING. */
function keyUsage(bits: number[]): Buffer {
  let v = 0;
  for (const b of bits) v |= 0x80 >> b;
  const unused = Math.min(...[0, 1, 2, 3, 4, 5, 6, 7].filter((i) => ((v >> i) & 1) === 1));
  return tlv(0x03, Buffer.from([unused, v]));
}

// ---------------------------------------------------------------- DER reading (the CA's certificate)

interface Element {
  tag: number;
  /** the whole element (tag, length, content) */
  raw: Buffer;
  content: Buffer;
}

function readElements(buf: Buffer): Element[] {
  const out: Element[] = [];
  let i = 0;
  while (i < buf.length) {
    const tag = buf[i];
    let len = buf[i + 1];
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i + 2 + k];
      hdr = 2 + n;
    }
    out.push({ tag, raw: buf.subarray(i, i + hdr + len), content: buf.subarray(i + hdr, i + hdr + len) });
    i += hdr + len;
  }
  return out;
}

/** The subject Name (raw DER) and SubjectKeyIdentifier of a certificate. */
function caFacts(certPem: string): { subject: Buffer; keyId: Buffer } {
  const cert = new X509Certificate(certPem);
  const [certSeq] = readElements(cert.raw);
  const [tbs] = readElements(certSeq.content);
  const fields = readElements(tbs.content);
  const off = fields[0].tag === 0xa0 ? 1 : 0; // [0] version is optional
  const subject = fields[off + 4].raw;
  let keyId: Buffer | undefined;
  const exts = fields.find((f) => f.tag === 0xa3);
  if (exts) {
    for (const ext of readElements(readElements(exts.content)[0].content)) {
      const parts = readElements(ext.content);
      if (parts[0].raw.equals(oid('2.5.29.14'))) keyId = readElements(parts[parts.length - 1].content)[0].content;
    }
  }
  return { subject, keyId: keyId ?? subjectKeyId(cert.publicKey) };
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
function subjectKeyId(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const [spkiSeq] = readElements(spki);
  const bits = readElements(spkiSeq.content)[1].content.subarray(1);
  return createHash('sha1').update(bits).digest();
}

// ---------------------------------------------------------------- certificates

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  rsaSha256: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

/** How a key signs, and the AlgorithmIdentifier that says so. */
function signer(key: KeyObject): { hash: string; alg: Buffer } {
  if (key.asymmetricKeyType === 'ec') {
    const p384 = key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
    return { hash: p384 ? 'sha384' : 'sha256', alg: seq(oid(p384 ? OID.ecdsaSha384 : OID.ecdsaSha256)) };
  }
  if (key.asymmetricKeyType === 'rsa') return { hash: 'sha256', alg: seq(oid(OID.rsaSha256), nul()) };
  throw new Error(`CA key of type ${key.asymmetricKeyType} is not supported (ECDSA or RSA)`);
}

function serial(): Buffer {
  // positive (high bit clear) 16-byte serial, as RFC 5280 asks
  const b = randomBytes(16);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b;
}

function validity(days: number): Buffer {
  // a minute of slack for clocks slightly behind ours
  const notBefore = new Date(Date.now() - 60_000);
  return seq(time(notBefore), time(new Date(notBefore.getTime() + days * 86_400_000)));
}

function pem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

function build(o: { subject: Buffer; issuer: Buffer; publicKey: KeyObject; signingKey: KeyObject; days: number; extensions: Buffer[] }): string {
  const { hash, alg } = signer(o.signingKey);
  const tbs = seq(
    ctx(0, true, smallInt(2)), // v3
    integer(serial()),
    alg,
    o.issuer,
    validity(o.days),
    o.subject,
    o.publicKey.export({ type: 'spki', format: 'der' }),
    ctx(3, true, seq(...o.extensions)),
  );
  const signature = sign(hash, tbs, o.signingKey);
  return pem(seq(tbs, alg, bitString(signature)), 'CERTIFICATE');
}

function newKeys(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function keyPem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export async function generateCA(commonName: string, days = 3650): Promise<KeyPairPem> {
  const keys = newKeys();
  const name = cnName(commonName);
  const certPem = build({
    subject: name,
    issuer: name,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    days,
    extensions: [
      extension(OID.basicConstraints, true, seq(bool(true), smallInt(0))),
      extension(OID.keyUsage, true, keyUsage([0, 5, 6])), // digitalSignature, keyCertSign, cRLSign
      extension(OID.subjectKeyId, false, octets(subjectKeyId(keys.publicKey))),
    ],
  });
  return { certPem, keyPem: keyPem(keys.privateKey) };
}

/** A leaf certificate (server, client or both) for the given names, self-signed or signed by `ca`. */
export async function generateCertificate(opts: LeafOptions): Promise<KeyPairPem> {
  const names: Buffer[] = [
    ...(opts.dnsNames ?? []).map((d) => ctx(2, false, Buffer.from(d, 'ascii'))),
    ...(opts.ipAddresses ?? []).map((ip) => {
      if (!net.isIP(ip)) throw new Error(`${JSON.stringify(ip)} is not an IP address`);
      return ctx(7, false, ipBytes(ip));
    }),
  ];
  const keys = newKeys();
  const usage = opts.usage ?? 'server';
  const eku = [...(usage !== 'client' ? [oid(OID.serverAuth)] : []), ...(usage !== 'server' ? [oid(OID.clientAuth)] : [])];
  const extensions = [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, keyUsage([0, 2])), // digitalSignature, keyEncipherment
    extension(OID.extKeyUsage, false, seq(...eku)),
    extension(OID.subjectKeyId, false, octets(subjectKeyId(keys.publicKey))),
  ];
  const subject = cnName(opts.commonName);
  let issuer = subject;
  let signingKey = keys.privateKey;
  if (opts.ca) {
    const ca = caFacts(opts.ca.certPem);
    issuer = ca.subject;
    signingKey = createPrivateKey(opts.ca.keyPem);
    extensions.push(extension(OID.authorityKeyId, false, seq(ctx(0, false, ca.keyId))));
  }
  if (names.length) extensions.push(extension(OID.subjectAltName, false, seq(...names)));
  const certPem = build({ subject, issuer, publicKey: keys.publicKey, signingKey, days: opts.days ?? 825, extensions });
  return { certPem, keyPem: keyPem(keys.privateKey) };
}
