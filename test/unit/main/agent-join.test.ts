// Joining, agent side, against a small HTTPS server: the CA is checked against the token's hash before
// anything secret is sent, and what the agent keeps (its password, the last join) survives a restart.

import test from 'ava';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateCA, generateCertificate } from '../../../src/util/x509.js';
import { formatJoinToken } from '../../../src/server/join-token.js';
import { fetchVerifiedCA, join, JoinRefused, loadJoin, loadOrCreatePassword, saveJoin, unreachable } from '../../../src/main/agent-join.js';

async function server(): Promise<{ url: string; caPem: string; seen: { path: string; auth?: string }[]; close(): void }> {
  const ca = await generateCA('test-ca');
  const leaf = await generateCertificate({ commonName: 'api', ipAddresses: ['127.0.0.1'], ca });
  const seen: { path: string; auth?: string }[] = [];
  const s = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization });
    if (req.url === '/cacerts') return void res.end(ca.certPem);
    res.statusCode = 401;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ kind: 'Status', code: 401, message: 'the join token is not this cluster\'s' }));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { url: `https://127.0.0.1:${(s.address() as AddressInfo).port}`, caPem: ca.certPem, seen, close: () => s.close() };
}

test('a CA that does not match the token is refused before any credential is sent', async (t) => {
  const s = await server();
  t.teardown(() => s.close());
  const good = formatJoinToken(s.caPem, 'secret-secret-secret-1234');
  const foreign = formatJoinToken('-----BEGIN CERTIFICATE-----\nother\n-----END CERTIFICATE-----\n', 'secret-secret-secret-1234');
  const err = await t.throwsAsync(join(s.url, foreign, { nodeName: 'n1', password: 'p'.repeat(40), nodeIP: '127.0.0.1' }));
  t.true(err instanceof JoinRefused);
  t.regex(err!.message, /join token pins .*no credential was sent/);
  t.deepEqual(s.seen, [{ path: '/cacerts', auth: undefined }], 'only the CA was asked for, without credentials');
  // the right CA: the join request goes out, verified against that CA, with the secret
  t.is(await fetchVerifiedCA(s.url, { caHash: good.slice(3, 67), user: 'node', secret: 'x' }), s.caPem);
  const refused = await t.throwsAsync(join(s.url, good, { nodeName: 'n1', password: 'p'.repeat(40), nodeIP: '127.0.0.1' }));
  t.regex(refused!.message, /refused the join \(HTTP 401\): the join token is not this cluster's/);
  t.is(s.seen.at(-1)?.auth, 'Bearer secret-secret-secret-1234');
});

test('the node password and the last join are kept in the data dir', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kl-agent-join-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const p = loadOrCreatePassword(dir);
  t.regex(p, /^[A-Za-z0-9_-]{40,}$/);
  t.is(loadOrCreatePassword(dir), p);
  t.is((fs.statSync(path.join(dir, 'node-password')).mode & 0o777), 0o600);
  t.is(loadJoin(dir), undefined);
  saveJoin(dir, { server: 'https://a:6443', caHash: 'h', response: { nodeName: 'n1' } as never });
  t.is(loadJoin(dir)?.server, 'https://a:6443');
});

test('unreachable servers are told apart from refusals', (t) => {
  t.true(unreachable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })));
  t.true(unreachable(new Error('no answer within 5000 ms')));
  t.false(unreachable(new JoinRefused('HTTP 401')));
});
