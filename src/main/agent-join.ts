// Joining, agent side. First the server's CA is fetched without any credential (GET /cacerts, TLS not
// yet verified: we do not know the CA) and its sha256 compared with the hash in the join token; only a
// match lets the agent send the join secret, then over TLS verified against that very CA. The answer
// (this node's credentials and the cluster's settings) is kept in the agent's data dir, so an agent that
// restarts while the server is away comes back with what it had and catches up when the server returns.

import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { caHash, parseJoinToken, type JoinToken } from '../server/join-token.js';
import { CACERTS_PATH, JOIN_PATH, type JoinRequest, type JoinResponse } from './join.js';

export class JoinRefused extends Error {}

interface Reply {
  status: number;
  body: string;
}

function request(url: URL, opts: { method: string; ca?: string; body?: string; token?: string; timeoutMs: number }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 443,
        path: url.pathname + url.search,
        method: opts.method,
        // Without a CA we cannot verify yet (that is what the hash is for), and we send nothing secret.
        ...(opts.ca ? { ca: opts.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
        headers: {
          accept: 'application/json, text/plain',
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.body ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
        },
        agent: false,
        timeout: opts.timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

/**
 * The server's CA, checked against the token's hash before anything else is said. The API's serving
 * certificate is signed by that CA for the names the agent may use (`kubernetes`, the server's
 * addresses), which the join request then verifies.
 */
export async function fetchVerifiedCA(server: string, token: JoinToken, timeoutMs = 5000): Promise<string> {
  const url = new URL(CACERTS_PATH, server);
  const r = await request(url, { method: 'GET', timeoutMs });
  if (r.status !== 200 || !r.body.includes('BEGIN CERTIFICATE')) throw new JoinRefused(`${server}${CACERTS_PATH} answered HTTP ${r.status}, not a CA certificate: is this a kubelite server?`);
  const got = caHash(r.body);
  if (got !== token.caHash) {
    throw new JoinRefused(
      `the server at ${server} has a CA whose sha256 is ${got.slice(0, 16)}…, but the join token pins ${token.caHash.slice(0, 16)}…: it is not the cluster the token belongs to (or someone is in between); no credential was sent`,
    );
  }
  return r.body;
}

export async function join(server: string, tokenText: string, req: JoinRequest, timeoutMs = 10_000): Promise<JoinResponse> {
  const token = parseJoinToken(tokenText);
  const ca = await fetchVerifiedCA(server, token, timeoutMs);
  const r = await request(new URL(JOIN_PATH, server), { method: 'POST', ca, token: token.secret, body: JSON.stringify(req), timeoutMs });
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body);
  } catch {
    parsed = undefined;
  }
  if (r.status !== 200) {
    const msg = (parsed as { message?: string } | undefined)?.message ?? r.body.slice(0, 300);
    throw new JoinRefused(`the server at ${server} refused the join (HTTP ${r.status}): ${msg}`);
  }
  const out = parsed as JoinResponse;
  if (!out?.nodeToken || !out.kubeletCertPem || !out.cluster) throw new JoinRefused(`the server at ${server} sent an incomplete join answer`);
  return out;
}

/** This agent's node password: made once, kept in its data dir (it proves the node name is ours at the next join). */
export function loadOrCreatePassword(dataDir: string): string {
  const file = path.join(dataDir, 'node-password');
  try {
    const p = fs.readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{32,128}$/.test(p)) return p;
  } catch {
    // first start
  }
  const p = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, p + '\n', { mode: 0o600 });
  return p;
}

export interface CachedJoin {
  server: string;
  caHash: string;
  response: JoinResponse;
}

export function saveJoin(dataDir: string, c: CachedJoin): void {
  const file = path.join(dataDir, 'join.json');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(c), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function loadJoin(dataDir: string): CachedJoin | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'join.json'), 'utf8')) as CachedJoin;
  } catch {
    return undefined;
  }
}

/** Is the error one of reaching the server (as opposed to the server saying no)? */
export function unreachable(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) || /no answer within/.test((err as Error).message);
}
