// Certificates without openssl: a CA and leaf certificates, self-signed or signed by a CA (ECDSA or RSA
// CA keys), ECDSA P-256 keys through Node's WebCrypto (native, milliseconds) and @peculiar/x509 for the
// ASN.1. The one implementation behind the API server's PKI, the ingress default certificate and
// `kubelite tls create`. Long-running processes call it through x509-child.ts: this module and its
// schema registry cost ~20 MiB of resident memory that would never be given back.

// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import net from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

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

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey), 'PRIVATE KEY');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

function serial(): string {
  // positive (high bit clear) 16-byte serial, as RFC 5280 asks
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  return Buffer.from(b).toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // a minute of slack for clocks slightly behind ours
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) };
}

function dnEscape(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, '\\$1');
}

/** A CA's private key in any PEM form OpenSSL reads (PKCS#8, SEC1, PKCS#1), with its signing algorithm. */
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

export async function generateCA(commonName: string, days = 3650): Promise<KeyPairPem> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${dnEscape(commonName)}`,
    ...validity(days),
    signingAlgorithm: SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

/** A leaf certificate (server, client or both) for the given names, self-signed or signed by `ca`. */
export async function generateCertificate(opts: LeafOptions): Promise<KeyPairPem> {
  const names: x509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => {
      if (!net.isIP(value)) throw new Error(`${JSON.stringify(value)} is not an IP address`);
      return { type: 'ip' as const, value };
    }),
  ];
  const keys = await newKeys();
  const usage = opts.usage ?? 'server';
  const eku = [
    ...(usage !== 'client' ? [x509.ExtendedKeyUsage.serverAuth] : []),
    ...(usage !== 'server' ? [x509.ExtendedKeyUsage.clientAuth] : []),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const subject = `CN=${dnEscape(opts.commonName)}`;
  const common = { serialNumber: serial(), ...validity(opts.days ?? 825) };
  let cert: x509.X509Certificate;
  if (opts.ca) {
    const caCert = new x509.X509Certificate(opts.ca.certPem);
    const { key, alg } = await importCAKey(opts.ca.keyPem);
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(caCert));
    cert = await x509.X509CertificateGenerator.create({
      ...common,
      subject,
      issuer: caCert.subject,
      signingAlgorithm: alg,
      publicKey: keys.publicKey,
      signingKey: key,
      extensions,
    });
  } else {
    cert = await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: subject, signingAlgorithm: SIGN, keys, extensions });
  }
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}
