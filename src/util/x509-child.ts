// Kept for callers of the old names: certificate generation once ran in a child process because the
// ASN.1 library it used cost ~20 MiB of resident memory and a few hundred milliseconds to load. The
// generator (x509.ts) is plain DER on Node's crypto now, so these run in-process.

import { generateCA, generateCertificate, type KeyPairPem, type LeafOptions } from './x509.js';

export const generateCAIsolated = (commonName: string, days?: number): Promise<KeyPairPem> => generateCA(commonName, days);
export const generateCertificateIsolated = (opts: LeafOptions): Promise<KeyPairPem> => generateCertificate(opts);
