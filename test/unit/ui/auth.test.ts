// The UI's login: the token compared in constant time, one-time codes for `kubelite ui`, signed
// session cookies that expire, survive a restart and die with the token.

import test from 'ava';
import { CODE_SECONDS, COOKIE_NAME, readCookie, SESSION_SECONDS, UiAuth } from '../../../src/ui/auth.js';

const TOKEN = 'k'.repeat(43);

test('the token, and nothing else', (t) => {
  const a = new UiAuth(TOKEN);
  t.true(a.checkToken(TOKEN));
  t.true(a.checkToken(`  ${TOKEN}\n`), 'pasted with whitespace');
  t.false(a.checkToken(TOKEN.slice(1)));
  t.false(a.checkToken(''));
  t.false(a.checkToken(undefined));
  t.false(a.checkToken({ token: TOKEN }));
  t.false(a.checkToken('x'.repeat(10_000)));
});

test('a login code works once, and only within its minute', (t) => {
  let now = 1_000_000;
  const a = new UiAuth(TOKEN, () => now);
  const { code, expiresInSeconds } = a.issueCode();
  t.is(expiresInSeconds, CODE_SECONDS);
  t.regex(code, /^[A-Za-z0-9_-]{32}$/);
  t.false(a.redeemCode(code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A')));
  t.true(a.redeemCode(code));
  t.false(a.redeemCode(code), 'a second use fails');
  const late = a.issueCode().code;
  now += CODE_SECONDS * 1000 + 1;
  t.false(a.redeemCode(late), 'expired');
  t.false(a.redeemCode(42));
});

test('sessions: signed, expiring, bound to the token', (t) => {
  let now = 5_000_000;
  const a = new UiAuth(TOKEN, () => now);
  const s = a.newSession();
  t.true(a.validSession(s));
  t.true(new UiAuth(TOKEN, () => now).validSession(s), 'a restarted server (same token) accepts it');
  t.false(new UiAuth('z'.repeat(43), () => now).validSession(s), 'a new token ends it');
  const [v, exp, nonce, mac] = s.split('.');
  t.false(a.validSession([v, String(Number(exp) + 3600), nonce, mac].join('.')), 'a longer expiry is not signed');
  t.false(a.validSession(`${s}x`));
  t.false(a.validSession(undefined));
  t.false(a.validSession('v1.1.2'));
  now += SESSION_SECONDS * 1000 + 1000;
  t.false(a.validSession(s), 'expired');
});

test('the cookie: HttpOnly, Secure, SameSite=Strict, scoped to /ui; read back from a Cookie header', (t) => {
  const h = UiAuth.setCookie('abc');
  t.is(h, `${COOKIE_NAME}=abc; Path=/ui; Max-Age=${SESSION_SECONDS}; HttpOnly; Secure; SameSite=Strict`);
  t.regex(UiAuth.setCookie(''), /Max-Age=0/);
  t.is(readCookie(`a=1; ${COOKIE_NAME}=v1.2.3.4; b=2`, COOKIE_NAME), 'v1.2.3.4');
  t.is(readCookie('a=1', COOKIE_NAME), undefined);
  t.is(readCookie(undefined, COOKIE_NAME), undefined);
});
