// Join tokens in k3s's shape, `K10<sha256 of the CA certificate>::<user>:<secret>`. The hash lets an
// agent check that the server it reached holds the cluster's CA before it sends any credential (the
// secret), so a wrong address or a man in the middle gets nothing. Pure.

import crypto from 'node:crypto';

export const JOIN_TOKEN_PREFIX = 'K10';
/** The user part agents present: k3s uses `node` for agents and `server` for servers. */
export const JOIN_USER = 'node';

export interface JoinToken {
  /** sha256 of the CA bundle's PEM text, lowercase hex. */
  caHash: string;
  user: string;
  secret: string;
}

/** sha256 of the PEM text as the server serves it at /cacerts (what the token pins). */
export function caHash(caPem: string): string {
  return crypto.createHash('sha256').update(caPem).digest('hex');
}

export function formatJoinToken(caPem: string, secret: string, user = JOIN_USER): string {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(secret)) throw new Error('join secret: at least 16 characters of A-Z, a-z, 0-9, _ and -');
  return `${JOIN_TOKEN_PREFIX}${caHash(caPem)}::${user}:${secret}`;
}

/** Parses a join token; the error says what is wrong with it without echoing the secret. */
export function parseJoinToken(text: string): JoinToken {
  const token = text.trim();
  const m = /^K10([0-9a-f]{64})::([a-z][a-z0-9-]{0,31}):([A-Za-z0-9_-]{16,256})$/.exec(token);
  if (m) return { caHash: m[1], user: m[2], secret: m[3] };
  if (!token.startsWith(JOIN_TOKEN_PREFIX)) {
    throw new Error('the join token must have the form K10<sha256 of the server CA>::node:<secret> (the server prints it, and writes it to <data-dir>/join-token): a token without the CA hash cannot prove the server is ours');
  }
  if (!/^K10[0-9a-f]{64}::/.test(token)) throw new Error('the join token\'s CA hash is not 64 hex digits after K10: was it copied whole?');
  throw new Error('the join token\'s credential part is not <user>:<secret> (16 or more characters of A-Z, a-z, 0-9, _ and -): was it copied whole?');
}

/** Constant-time comparison of two strings (lengths may leak, contents do not). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
