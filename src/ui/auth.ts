// How a browser logs in to the UI with the API's bearer token, once, without the token ever sitting
// in a URL, in page script or in a log:
//   - pasted into the login form: POSTed as JSON, compared in constant time;
//   - or `kubelite ui` (which holds the token) asks for a one-time code and prints
//     https://HOST:PORT/ui/#code=CODE. The fragment never reaches the server or its logs; the page
//     removes it from the address bar and POSTs the code, which works once and expires in a minute.
// Either way the answer is a session cookie (HttpOnly, Secure, SameSite=Strict, Path=/ui): an expiry
// and a nonce signed with a key derived from the token. It survives a server restart, and a new token
// ends every session.

import crypto from 'node:crypto';

export const COOKIE_NAME = 'kubelite_ui';
export const COOKIE_PATH = '/ui';
export const SESSION_SECONDS = 12 * 3600;
export const CODE_SECONDS = 60;
const MAX_CODES = 64;

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Reads one cookie from a Cookie header (RFC 6265 syntax; values are opaque). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export class UiAuth {
  private readonly key: Buffer;
  private readonly codes = new Map<string, number>();

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {
    this.key = crypto.createHmac('sha256', token).update('kubelite-ui-session-v1').digest();
  }

  checkToken(given: unknown): boolean {
    return typeof given === 'string' && given.length > 0 && given.length < 4096 && safeEqual(given.trim(), this.token);
  }

  /** A one-time login code (for `kubelite ui`), valid for CODE_SECONDS. */
  issueCode(): { code: string; expiresInSeconds: number } {
    this.sweep();
    while (this.codes.size >= MAX_CODES) this.codes.delete(this.codes.keys().next().value!);
    const code = b64url(crypto.randomBytes(24));
    this.codes.set(code, this.now() + CODE_SECONDS * 1000);
    return { code, expiresInSeconds: CODE_SECONDS };
  }

  /** True once per issued, unexpired code. */
  redeemCode(given: unknown): boolean {
    if (typeof given !== 'string' || given.length > 128) return false;
    this.sweep();
    for (const [code, expires] of this.codes) {
      if (safeEqual(code, given)) {
        this.codes.delete(code);
        return expires > this.now();
      }
    }
    return false;
  }

  private sweep(): void {
    const t = this.now();
    for (const [code, expires] of this.codes) if (expires <= t) this.codes.delete(code);
  }

  private sign(payload: string): string {
    return b64url(crypto.createHmac('sha256', this.key).update(payload).digest());
  }

  /** A new session's cookie value. */
  newSession(): string {
    const payload = `v1.${Math.floor(this.now() / 1000) + SESSION_SECONDS}.${b64url(crypto.randomBytes(12))}`;
    return `${payload}.${this.sign(payload)}`;
  }

  validSession(value: string | undefined): boolean {
    if (!value || value.length > 200) return false;
    const parts = value.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') return false;
    const payload = parts.slice(0, 3).join('.');
    if (!safeEqual(this.sign(payload), parts[3])) return false;
    const expires = Number(parts[1]);
    return Number.isInteger(expires) && expires * 1000 > this.now();
  }

  /** The Set-Cookie header for a session value (or for clearing it: value ''). */
  static setCookie(value: string): string {
    const age = value ? SESSION_SECONDS : 0;
    return `${COOKIE_NAME}=${value}; Path=${COOKIE_PATH}; Max-Age=${age}; HttpOnly; Secure; SameSite=Strict`;
  }
}
