// Checks a Secret an Ingress names for TLS. Pure apart from OpenSSL parsing; memoized on content
// because the route table is rebuilt on every change and parsing a key pair is the costly part.

import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { Secret } from '../api/types.js';

export type TLSSecretCheck = { ok: true; certPem: string; keyPem: string; notAfter: string } | { ok: false; reason: string };

const cache = new Map<string, TLSSecretCheck>();
const CACHE_MAX = 512;

export function validateKeyPair(certPem: string, keyPem: string): TLSSecretCheck {
  const memoKey = `${certPem}\u0000${keyPem}`;
  const hit = cache.get(memoKey);
  if (hit) return hit;
  let result: TLSSecretCheck;
  try {
    if (!certPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('tls.crt holds no PEM certificate');
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) throw new Error('tls.key holds no PEM private key');
    // createSecureContext is what the TLS server itself would run: it rejects garbage and a key that
    // does not belong to the certificate ("key values mismatch").
    tls.createSecureContext({ cert: certPem, key: keyPem });
    const x = new X509Certificate(certPem);
    result = { ok: true, certPem, keyPem, notAfter: x.validTo };
  } catch (e) {
    result = { ok: false, reason: `not a valid certificate/key pair: ${(e as Error).message}` };
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(memoKey, result);
  return result;
}

export function validateTLSSecret(secret: Secret | undefined): TLSSecretCheck {
  if (!secret) return { ok: false, reason: 'secret not found' };
  if (secret.type !== 'kubernetes.io/tls') return { ok: false, reason: `secret is of type ${JSON.stringify(secret.type ?? 'Opaque')}, not kubernetes.io/tls` };
  const crt = secret.data?.['tls.crt'];
  const key = secret.data?.['tls.key'];
  if (!crt || !key) return { ok: false, reason: 'secret lacks tls.crt or tls.key' };
  return validateKeyPair(Buffer.from(crt, 'base64').toString('utf8'), Buffer.from(key, 'base64').toString('utf8'));
}
