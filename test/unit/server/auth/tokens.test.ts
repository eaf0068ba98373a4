import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KObject } from '../../../../src/api/types.js';
import { Authenticator, type BoundObjectLookup } from '../../../../src/server/auth/authenticator.js';
import { ServiceAccountTokens } from '../../../../src/server/auth/tokens.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
let dir: string;
let tokens: ServiceAccountTokens;

test.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-sa-'));
  tokens = await ServiceAccountTokens.load(dir, ISSUER);
});
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const obj = (name: string, uid: string, extra: Partial<KObject['metadata']> = {}): KObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name, uid, ...extra } });

function lookup(objects: Record<string, KObject | undefined>): BoundObjectLookup {
  return {
    serviceAccount: async (ns, n) => objects[`sa/${ns}/${n}`],
    pod: async (ns, n) => objects[`pod/${ns}/${n}`],
    secret: async (ns, n) => objects[`secret/${ns}/${n}`],
    node: async (n) => objects[`node/${n}`],
  };
}

test('the key is kept 0600 in the data dir and reused', async (t) => {
  t.is(fs.statSync(path.join(dir, 'sa.key')).mode & 0o777, 0o600);
  const again = await ServiceAccountTokens.load(dir, ISSUER);
  t.is(again.keyId, tokens.keyId);
  const { token } = await tokens.issue({ claims: { namespace: 'a', serviceaccount: { name: 'b', uid: 'u' } }, audiences: [ISSUER], expirationSeconds: 600 });
  t.is((await again.verify(token)).claims.sub, 'system:serviceaccount:a:b');
  const jwk = await tokens.publicJWK();
  t.like(jwk, { kty: 'EC', crv: 'P-256', kid: tokens.keyId, alg: 'ES256', use: 'sig' });
  t.false('d' in jwk, 'no private part');
});

test('claims as TokenRequest writes them; expiry and audience enforced', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const { token, expiresAt } = await tokens.issue({ claims: { namespace: 'a', serviceaccount: { name: 'b', uid: 'u' }, pod: { name: 'p', uid: 'pu' } }, audiences: [ISSUER], expirationSeconds: 3600, now });
  t.is(expiresAt, (now + 3600) * 1000);
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
  t.deepEqual(header, { alg: 'ES256', kid: tokens.keyId });
  const v = await tokens.verify(token);
  t.like(v.claims, { iss: ISSUER, sub: 'system:serviceaccount:a:b', aud: [ISSUER], iat: now, nbf: now, exp: now + 3600 });
  t.deepEqual(v.claims['kubernetes.io'].pod, { name: 'p', uid: 'pu' });
  await t.throwsAsync(tokens.verify(token, ['other']), { message: /audiences/ });
  const old = await tokens.issue({ claims: { namespace: 'a', serviceaccount: { name: 'b', uid: 'u' } }, audiences: [ISSUER], expirationSeconds: 600, now: now - 1000 });
  await t.throwsAsync(tokens.verify(old.token), { message: /expired/ });
});

test('the authenticator: admin token, bound objects checked on every request', async (t) => {
  const objects: Record<string, KObject | undefined> = { 'sa/a/b': obj('b', 'sa-uid'), 'pod/a/p': obj('p', 'pod-uid') };
  let now = Date.now();
  const auth = new Authenticator({ adminToken: 'admin-token-0123456789', tokens, lookup: lookup(objects), now: () => now });
  t.like(await auth.authenticate('admin-token-0123456789', { allowAdmin: true }), { ok: true, user: { username: 'kubelite-admin', groups: ['system:masters', 'system:authenticated'] } });
  t.like(await auth.authenticate('admin-token-0123456789', { allowAdmin: false }), { ok: false });
  t.like(await auth.authenticate('not-a-jwt', { allowAdmin: true }), { ok: false });

  const { token } = await tokens.issue({ claims: { namespace: 'a', serviceaccount: { name: 'b', uid: 'sa-uid' }, pod: { name: 'p', uid: 'pod-uid' } }, audiences: [ISSUER], expirationSeconds: 600 });
  const ok = await auth.authenticate(token, { allowAdmin: true });
  t.true(ok.ok);
  if (ok.ok) {
    t.is(ok.user.username, 'system:serviceaccount:a:b');
    t.is(ok.user.uid, 'sa-uid');
    t.deepEqual(ok.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:a', 'system:authenticated']);
    t.deepEqual(ok.user.extra?.['authentication.kubernetes.io/pod-name'], ['p']);
  }
  // The pod recreated under its name: another uid, the token is dead.
  objects['pod/a/p'] = obj('p', 'other-uid');
  t.like(await auth.authenticate(token, { allowAdmin: true }), { ok: false, error: 'pod a/p (uid pod-uid) the token is bound to no longer exists' });
  objects['pod/a/p'] = obj('p', 'pod-uid', { deletionTimestamp: new Date(now).toISOString() });
  t.true((await auth.authenticate(token, { allowAdmin: true })).ok, 'a Pod being deleted keeps its token a minute');
  now += 120_000;
  t.false((await auth.authenticate(token, { allowAdmin: true })).ok);
  objects['pod/a/p'] = obj('p', 'pod-uid');
  delete objects['sa/a/b'];
  t.like(await auth.authenticate(token, { allowAdmin: true }), { ok: false, error: 'service account a/b has been deleted' });
  // Past its expiry (cached or not) a token is refused.
  objects['sa/a/b'] = obj('b', 'sa-uid');
  now += 3600_000;
  t.like(await auth.authenticate(token, { allowAdmin: true }), { ok: false, error: 'service account token has expired' });
});

test('review: tokens for other audiences are accepted for those audiences only', async (t) => {
  const auth = new Authenticator({ adminToken: 'admin-token-0123456789', tokens, lookup: lookup({ 'sa/a/b': obj('b', 'u') }) });
  const { token } = await tokens.issue({ claims: { namespace: 'a', serviceaccount: { name: 'b', uid: 'u' } }, audiences: ['vault'], expirationSeconds: 600 });
  t.false((await auth.authenticate(token, { allowAdmin: true })).ok);
  t.like(await auth.review(token, ['vault', 'x']), { ok: true, audiences: ['vault'] });
});

test('adopt: a joining server takes the cluster\'s key (kept in the data dir); tokens of the old key stop verifying', async (t) => {
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-sa-'));
  t.teardown(() => fs.rmSync(other, { recursive: true, force: true }));
  const joiner = await ServiceAccountTokens.load(other, ISSUER);
  t.not(joiner.keyId, tokens.keyId);
  const claims = { namespace: 'a', serviceaccount: { name: 'b', uid: 'u' } };
  const before = await joiner.issue({ claims, audiences: [ISSUER], expirationSeconds: 600 });
  await joiner.adopt(tokens.privateKeyPem());
  t.is(joiner.keyId, tokens.keyId);
  t.is(joiner.publicKeyPem, tokens.publicKeyPem);
  const issuedHere = await tokens.issue({ claims, audiences: [ISSUER], expirationSeconds: 600 });
  t.is((await joiner.verify(issuedHere.token)).claims.sub, 'system:serviceaccount:a:b');
  await t.throwsAsync(joiner.verify(before.token), { message: 'invalid signature' });
  t.is(fs.statSync(path.join(other, 'sa.key')).mode & 0o777, 0o600);
  t.is((await ServiceAccountTokens.load(other, ISSUER)).keyId, tokens.keyId, 'a restart keeps the adopted key');
});
