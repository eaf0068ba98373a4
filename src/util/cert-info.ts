// Reading certificates needs only Node's own X509Certificate (no ASN.1 library in the server's memory).

import { X509Certificate } from 'node:crypto';

/** SANs of a PEM certificate, and whether it is still valid for at least `marginDays`. */
export function inspectCertificate(certPem: string, marginDays = 30): { dnsNames: string[]; ipAddresses: string[]; fresh: boolean } {
  const cert = new X509Certificate(certPem);
  const san = cert.subjectAltName ?? '';
  const dnsNames = [...san.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]);
  const ipAddresses = [...san.matchAll(/IP Address:([^,\s]+)/g)].map((m) => m[1]);
  return { dnsNames, ipAddresses, fresh: Date.parse(cert.validTo) - Date.now() > marginDays * 86_400_000 };
}
