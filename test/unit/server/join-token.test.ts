// Join tokens: k3s's K10<ca-hash>::<user>:<secret> shape, parsed with errors that never echo the secret.

import test from 'ava';
import { caHash, formatJoinToken, parseJoinToken, sameSecret } from '../../../src/server/join-token.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('a token carries the sha256 of the CA text and parses back', (t) => {
  const tok = formatJoinToken(CA, 'abcdefghijklmnopqrstuvwxyz012345');
  t.true(tok.startsWith(`K10${caHash(CA)}::node:`));
  t.is(caHash(CA).length, 64);
  t.deepEqual(parseJoinToken(`  ${tok}\n`), { caHash: caHash(CA), user: 'node', secret: 'abcdefghijklmnopqrstuvwxyz012345' });
});

test('bad tokens say what is wrong and never the secret', (t) => {
  const secret = 'SUPERSECRETVALUE1234567890';
  for (const [token, pattern] of [
    [secret, /must have the form K10<sha256 of the server CA>::node:<secret>/],
    [`K10abc::node:${secret}`, /CA hash is not 64 hex digits/],
    [`K10${'a'.repeat(64)}::node:short`, /credential part is not <user>:<secret>/],
    [`K10${'a'.repeat(64)}::${secret}`, /credential part/],
  ] as const) {
    const err = t.throws(() => parseJoinToken(token));
    t.regex(err!.message, pattern);
    t.false(err!.message.includes(secret), 'the secret is not echoed');
  }
  t.throws(() => formatJoinToken(CA, 'short'), { message: /at least 16/ });
});

test('secrets compare in constant time and by value', (t) => {
  t.true(sameSecret('abc', 'abc'));
  t.false(sameSecret('abc', 'abd'));
  t.false(sameSecret('abc', 'abcd'));
});
