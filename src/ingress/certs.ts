// The CertStore the proxy serves by SNI, and the ingress's certificate generators. Generation lives in
// src/util/x509.ts (one implementation for the whole project), imported only when a certificate is made.

import { createHash } from 'node:crypto';
import type { KeyPairPem } from '../util/x509.js';
import type { RouteTable } from './routes.js';

export type PemPair = KeyPairPem;

export interface SelfSignedOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses?: string[];
  /** validity, default 365 */
  days?: number;
  /** sign with this CA instead of self-signing */
  ca?: { cert: string; key: string };
}

export const DEFAULT_CERT_COMMON_NAME = 'Kubelite Ingress Default Certificate';
const DEFAULT_CERT_OPTIONS = { commonName: DEFAULT_CERT_COMMON_NAME, dnsNames: ['ingress.local'], days: 3650 };

export async function generateCA(commonName: string, days = 3650): Promise<PemPair> {
  return (await import('../util/x509.js')).generateCA(commonName, days);
}

/** A serving certificate (serverAuth + clientAuth), self-signed or signed by `ca`. */
export async function generateSelfSigned(opts: SelfSignedOptions): Promise<PemPair> {
  const { generateCertificate } = await import('../util/x509.js');
  return generateCertificate({
    commonName: opts.commonName,
    dnsNames: opts.dnsNames,
    ipAddresses: opts.ipAddresses,
    days: opts.days ?? 365,
    ca: opts.ca ? { certPem: opts.ca.cert, keyPem: opts.ca.key } : undefined,
    usage: 'both',
  });
}

export interface SNICert {
  /** hash of content and names: equal ids mean equal crt-list entries, so only changes are applied */
  id: string;
  /** SNI names, lower case, `*.` wildcards allowed */
  hosts: string[];
  certPem: string;
  keyPem: string;
  /** `namespace/name` of the Secret */
  secret: string;
}

export interface CertStore {
  defaultCert: PemPair & { id: string };
  certs: SNICert[];
}

export function pemId(certPem: string, keyPem: string, hosts: string[] = []): string {
  return createHash('sha256').update(certPem).update('\0').update(keyPem).update('\0').update(hosts.join(' ')).digest('hex').slice(0, 16);
}

/** The certificates a route table serves, beside the default one for unknown names. */
export function buildCertStore(table: RouteTable, defaultCert: PemPair): CertStore {
  return {
    defaultCert: { ...defaultCert, id: pemId(defaultCert.certPem, defaultCert.keyPem) },
    // names are part of the id: one crt-list line per id, so the same pair for other names is another entry
    certs: table.certs.map((c) => ({ id: pemId(c.certPem, c.keyPem, c.hosts), hosts: c.hosts, certPem: c.certPem, keyPem: c.keyPem, secret: c.secret })),
  };
}

/** The self-signed certificate served for names no Secret covers (ingress-nginx's "Fake Certificate"). */
export async function generateDefaultCert(): Promise<PemPair> {
  return (await import('../util/x509.js')).generateCertificate(DEFAULT_CERT_OPTIONS);
}

/** The same (it once ran in a child process to keep a heavy library out of the server; the generator is light now). */
export async function generateDefaultCertIsolated(): Promise<PemPair> {
  return generateDefaultCert();
}
