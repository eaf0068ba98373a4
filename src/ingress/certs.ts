// Certificates: a generator (ECDSA P-256 through WebCrypto: milliseconds, no openssl process) shared
// with the API server and the CLI, and the CertStore the proxy serves by SNI.

// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createHash, createPrivateKey, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import type { RouteTable } from './routes.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface SelfSignedOptions {
  commonName: string;
  dnsNames: string[];
  ipAddresses?: string[];
  /** validity, default 365 */
  days?: number;
  /** sign with this CA instead of self-signing */
  ca?: { cert: string; key: string };
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY');
}

function serial(): string {
  // positive (high bit clear) 16-byte serial, as RFC 5280 asks
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  return Buffer.from(b).toString('hex');
}

function dnEscape(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1');
}

async function importCAKey(pem: string): Promise<{ key: CryptoKey; alg: Algorithm | EcdsaParams }> {
  const k = createPrivateKey(pem);
  const der = k.export({ format: 'der', type: 'pkcs8' });
  if (k.asymmetricKeyType === 'ec') {
    const curve = k.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
    return { key: key as unknown as CryptoKey, alg: { name: 'ECDSA', hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' } as EcdsaParams };
  }
  if (k.asymmetricKeyType === 'rsa') {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
    return { key: key as unknown as CryptoKey, alg };
  }
  throw new Error(`CA key of type ${k.asymmetricKeyType} is not supported (ECDSA or RSA)`);
}

export async function generateCA(commonName: string, days = 3650): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${dnEscape(commonName)}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 86_400_000),
    signingAlgorithm: SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
}

/** A serving certificate (serverAuth + clientAuth), self-signed or signed by `ca`. */
export async function generateSelfSigned(opts: SelfSignedOptions): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (opts.days ?? 365) * 86_400_000);
  const names: x509.JsonGeneralName[] = [
    ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => {
      if (!isIP(value)) throw new Error(`${JSON.stringify(value)} is not an IP address`);
      return { type: 'ip' as const, value };
    }),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    new x509.SubjectAlternativeNameExtension(names),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const subject = `CN=${dnEscape(opts.commonName)}`;
  let cert: x509.X509Certificate;
  if (opts.ca) {
    const caCert = new x509.X509Certificate(opts.ca.cert);
    const { key, alg } = await importCAKey(opts.ca.key);
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(caCert));
    cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: alg,
      publicKey: keys.publicKey,
      signingKey: key,
      extensions,
    });
  } else {
    cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: serial(), name: subject, notBefore, notAfter, signingAlgorithm: SIGN, keys, extensions });
  }
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) };
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
export function generateDefaultCert(): Promise<PemPair> {
  return generateSelfSigned({ commonName: 'Kubelite Ingress Default Certificate', dnsNames: ['ingress.local'] });
}
