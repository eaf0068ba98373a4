// A server that joins others on one etcd adopts their admin token and CA after it started: the join
// token it prints and keeps, /cacerts and the join endpoint follow at once.

import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { defaultConfig } from '../../../src/config.js';
import { CACERTS_PATH, JOIN_PATH } from '../../../src/main/join.js';
import { MultiHostServer } from '../../../src/main/multihost.js';
import { caHash, parseJoinToken } from '../../../src/server/join-token.js';
import { joinSecret } from '../../../src/server/node-auth.js';
import type { Registry } from '../../../src/server/registry.js';
import { createLogger } from '../../../src/util/log.js';

function request(port: number, method: string, p: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('adopt(): the join token, its file, /cacerts and the join secret all change to the cluster\'s', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-mh-unit-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const registry = { addAdmission: () => undefined } as unknown as Registry;
  const own = { token: 'own-admin-token-0123456789', ca: { certPem: 'CA OF THIS DATA DIR\n', keyPem: 'k1' } };
  const cluster = { token: 'cluster-admin-token-0123456789', ca: { certPem: 'CA OF THE CLUSTER\n', keyPem: 'k2' } };
  const multi = new MultiHostServer({ config: defaultConfig({ dataDir }), dataDir, registry, adminToken: own.token, ca: own.ca, logger: createLogger('error') });
  t.is(parseJoinToken(multi.joinToken).caHash, caHash(own.ca.certPem));

  const app = express();
  multi.mountPublic(app);
  const server = http.createServer(app).listen(0, '127.0.0.1');
  t.teardown(() => server.close());
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  const join = (secret: string) => request(port, 'POST', JOIN_PATH, { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, '{}');

  t.is((await request(port, 'GET', CACERTS_PATH)).body, own.ca.certPem);
  t.not((await join(joinSecret(own.token))).status, 401);

  multi.adopt(cluster.token, cluster.ca);
  const token = parseJoinToken(multi.joinToken);
  t.is(token.caHash, caHash(cluster.ca.certPem));
  t.is(token.secret, joinSecret(cluster.token));
  t.is(fs.readFileSync(path.join(dataDir, 'join-token'), 'utf8').trim(), multi.joinToken);
  t.is((await request(port, 'GET', CACERTS_PATH)).body, cluster.ca.certPem);
  t.is((await join(joinSecret(own.token))).status, 401, 'the old secret is refused');
  const fresh = await join(joinSecret(cluster.token));
  t.is(fresh.status, 400, `the cluster's secret passes (and the empty request is refused for itself): ${fresh.body}`);
});
