// The certificate served for names no Secret covers, made once per data dir and kept there: a stable
// default certificate (clients that pinned it keep working across restarts), generated in a child
// process so the server never loads the certificate library itself.

import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { inspectCertificate } from '../util/cert-info.js';
import { generateDefaultCertIsolated, type PemPair } from './certs.js';

export const DEFAULT_CERT_FILE = 'default.crt';
export const DEFAULT_KEY_FILE = 'default.key';

/** A usable pair: parses, key matches, and valid for a while yet. */
function usable(pair: PemPair): boolean {
  try {
    tls.createSecureContext({ cert: pair.certPem, key: pair.keyPem });
    return inspectCertificate(pair.certPem, 30).fresh;
  } catch {
    return false;
  }
}

export async function loadOrCreateDefaultCert(dir: string, generate: () => Promise<PemPair> = generateDefaultCertIsolated): Promise<{ pair: PemPair; created: boolean }> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = path.join(dir, DEFAULT_CERT_FILE);
  const keyFile = path.join(dir, DEFAULT_KEY_FILE);
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    const pair = { certPem: fs.readFileSync(certFile, 'utf8'), keyPem: fs.readFileSync(keyFile, 'utf8') };
    if (usable(pair)) return { pair, created: false };
  }
  const pair = await generate();
  // key first and 0600 from its first byte: never a moment where it is readable by others
  const tmpKey = `${keyFile}.tmp`;
  fs.writeFileSync(tmpKey, pair.keyPem, { mode: 0o600 });
  fs.chmodSync(tmpKey, 0o600);
  fs.renameSync(tmpKey, keyFile);
  fs.writeFileSync(`${certFile}.tmp`, pair.certPem, { mode: 0o644 });
  fs.renameSync(`${certFile}.tmp`, certFile);
  return { pair, created: true };
}
