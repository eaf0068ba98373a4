// The data dir: store, PKI, token and kubeconfig. A dir that is not ours is refused with a clear
// message and left untouched — never "repaired" into a crash loop that destroys someone's files.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inspectCertificate } from '../util/cert-info.js';
import { generateCA, generateCertificate, type KeyPairPem } from '../util/x509.js';

const MARKER = 'kubelite.json';
const FORMAT = 1;

export function prepareDataDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const marker = path.join(dir, MARKER);
  if (fs.existsSync(marker)) {
    let meta: { format?: number };
    try {
      meta = JSON.parse(fs.readFileSync(marker, 'utf8'));
    } catch {
      throw new Error(`data dir ${dir}: ${MARKER} is not valid JSON; refusing to start (fix or remove the file, or pass another --data-dir)`);
    }
    if (meta.format !== FORMAT) throw new Error(`data dir ${dir} has format ${meta.format}, this kubelite reads format ${FORMAT}; refusing to start`);
    return;
  }
  const entries = fs.readdirSync(dir);
  if (entries.length > 0) {
    throw new Error(`data dir ${dir} is not empty and is not a kubelite data dir (it has ${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''} but no ${MARKER}); refusing to touch it — pass --data-dir with an empty or kubelite directory`);
  }
  fs.writeFileSync(marker, JSON.stringify({ format: FORMAT, created: new Date().toISOString() }) + '\n', { mode: 0o600 });
  // Secrets live in the store: only root (the server) may read the data dir.
  fs.chmodSync(dir, 0o700);
}

function writeSecret(file: string, data: string): void {
  fs.writeFileSync(file, data, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

export function loadOrCreateToken(dir: string, tokenFile?: string): string {
  const file = path.join(dir, 'token');
  if (tokenFile) {
    let given: string;
    try {
      given = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new Error(`--token-file ${tokenFile}: ${(err as Error).message}`);
    }
    // it goes into an HTTP header: printable ASCII without spaces
    if (given.length < 16 || !/^[\x21-\x7e]+$/.test(given)) throw new Error(`--token-file ${tokenFile}: the token must be at least 16 printable characters without spaces`);
    writeSecret(file, given + '\n');
    return given;
  }
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token.length >= 16) return token;
  }
  const token = crypto.randomBytes(32).toString('base64url');
  writeSecret(file, token + '\n');
  return token;
}

export interface Pki {
  ca: KeyPairPem;
  serving: KeyPairPem;
}

/** The cluster CA (kept forever) and the API serving certificate (re-issued when its names change or it nears expiry). */
export async function loadOrCreatePki(dir: string, sans: { dnsNames: string[]; ipAddresses: string[] }): Promise<Pki> {
  const pkiDir = path.join(dir, 'pki');
  fs.mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const f = (n: string) => path.join(pkiDir, n);
  let ca: KeyPairPem;
  if (fs.existsSync(f('ca.crt')) && fs.existsSync(f('ca.key'))) {
    ca = { certPem: fs.readFileSync(f('ca.crt'), 'utf8'), keyPem: fs.readFileSync(f('ca.key'), 'utf8') };
  } else {
    ca = await generateCA('kubelite-ca');
    writeSecret(f('ca.key'), ca.keyPem);
    fs.writeFileSync(f('ca.crt'), ca.certPem);
  }
  let serving: KeyPairPem | undefined;
  if (fs.existsSync(f('apiserver.crt')) && fs.existsSync(f('apiserver.key'))) {
    serving = { certPem: fs.readFileSync(f('apiserver.crt'), 'utf8'), keyPem: fs.readFileSync(f('apiserver.key'), 'utf8') };
    const have = inspectCertificate(serving.certPem);
    const covers = sans.dnsNames.every((d) => have.dnsNames.includes(d)) && sans.ipAddresses.every((i) => have.ipAddresses.includes(i));
    if (!covers || !have.fresh) serving = undefined;
  }
  if (!serving) {
    serving = await generateCertificate({ commonName: 'kube-apiserver', ...sans, ca, days: 825 });
    writeSecret(f('apiserver.key'), serving.keyPem);
    fs.writeFileSync(f('apiserver.crt'), serving.certPem);
  }
  return { ca, serving };
}


/**
 * Takes the cluster's CA and token (several servers on one etcd share them, so one kubeconfig works
 * with every server): written over this data dir's, and the serving certificate dropped so the next
 * loadOrCreatePki issues one from the cluster's CA.
 */
export function writeClusterCredentials(dir: string, creds: { token: string; ca: KeyPairPem }): void {
  const pkiDir = path.join(dir, 'pki');
  fs.mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  writeSecret(path.join(dir, 'token'), creds.token + '\n');
  writeSecret(path.join(pkiDir, 'ca.key'), creds.ca.keyPem);
  fs.writeFileSync(path.join(pkiDir, 'ca.crt'), creds.ca.certPem);
  for (const f of ['apiserver.crt', 'apiserver.key']) fs.rmSync(path.join(pkiDir, f), { force: true });
}
