// HTTP watches under load (issue 17 #14): one encoding of each event shared by every watcher, a cap of
// open watches per client (429 with a Status), and a watcher that stops reading is dropped (it relists)
// instead of making the server buffer without bound. In-process server over real HTTPS.

import test from 'ava';
import fs from 'node:fs';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../../src/config.js';
import { startServer, type RunningServer } from '../../../src/main/server.js';
import { R } from '../../../src/api/resources.js';
import type { ConfigMap } from '../../../src/api/types.js';
import { silentLogger } from '../../../src/util/log.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { MAX_WATCH_BACKLOG_BYTES, SLOW_WATCHER_GRACE_MS } from '../../../src/server/app.js';

const CAP = 3;
let server: RunningServer;
let dataDir: string;

test.before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-watch-'));
  server = await startServer(defaultConfig({ dataDir, apiPort: 0, maxWatchesPerClient: CAP }), [], silentLogger());
});

test.after.always(async () => {
  await server?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function openWatch(p: string, localAddress = '127.0.0.1'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: server.port, path: p, ca: server.caPem, agent: false, localAddress, headers: { Authorization: `Bearer ${server.token}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => resolve(body));
    res.on('close', () => resolve(body));
  });
}

const cm = (name: string, data: Record<string, string> = { k: 'v' }): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'watched' }, data });

test.serial('every watcher gets the same bytes for an event, as the plain JSON it always was', async (t) => {
  await server.registry.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } });
  const rv = server.store.currentResourceVersion();
  const watches = await Promise.all([1, 2].map(() => openWatch(`/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=2`)));
  const bodies = watches.map(readAll);
  const created = await server.registry.create<ConfigMap>(R.configmaps, cm('shared', { a: '1' }));
  await server.registry.delete(R.configmaps, 'watched', 'shared');
  const [a, b] = await Promise.all(bodies);
  t.is(a, b);
  const lines = a.trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(lines.map((l) => l.type), ['ADDED', 'DELETED']);
  t.deepEqual(lines[0].object, created);
  // A Table watch (kubectl get -w) still gets its own rows.
  const table = await openWatch(`/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
  t.is(table.statusCode, 200);
  table.destroy();
  await new Promise((r) => setTimeout(r, 200));
});

test.serial(`a client holds at most --max-watches-per-client watches (${CAP} here): the next is a 429 Status; another client is not affected`, async (t) => {
  const held = await Promise.all(Array.from({ length: CAP }, () => openWatch('/api/v1/namespaces/watched/configmaps?watch=true&timeoutSeconds=30')));
  t.true(held.every((r) => r.statusCode === 200));
  const refused = await openWatch('/api/v1/namespaces/watched/configmaps?watch=true');
  t.is(refused.statusCode, 429);
  t.is(refused.headers['retry-after'], '1');
  const st = JSON.parse(await readAll(refused));
  t.like(st, { kind: 'Status', code: 429, reason: 'TooManyRequests' });
  t.regex(st.message, /too many open watches from this client/);
  // Another source address is another client.
  const other = await openWatch('/api/v1/namespaces/watched/configmaps?watch=true&timeoutSeconds=1', '127.0.0.2');
  t.is(other.statusCode, 200);
  other.destroy();
  // Closing one frees a place.
  held[0].destroy();
  await new Promise((r) => setTimeout(r, 200));
  const again = await openWatch('/api/v1/namespaces/watched/configmaps?watch=true&timeoutSeconds=1');
  t.is(again.statusCode, 200);
  for (const r of [...held, again]) r.destroy();
  await new Promise((r) => setTimeout(r, 200));
});

test.serial('a watcher that stops reading is dropped once its unsent backlog passes the bound (it relists), the others keep going', async (t) => {
  const rv = server.store.currentResourceVersion();
  const slow = await openWatch(`/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion=${rv}`);
  slow.pause();
  const fast = await openWatch(`/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=20`);
  let fastBytes = 0;
  fast.on('data', (d: Buffer) => (fastBytes += d.length));
  const value = 'x'.repeat(512 * 1024);
  // Far more than the bound plus what the kernel's socket buffers hold.
  const total = 48;
  for (let i = 0; i < total; i++) await server.registry.create(R.configmaps, cm(`big-${i}`, { v: value }));
  const ended = new Promise<number>((resolve) => {
    let got = 0;
    slow.on('data', (d: Buffer) => (got += d.length));
    slow.on('end', () => resolve(got));
    slow.on('close', () => resolve(got));
  });
  setTimeout(() => slow.resume(), SLOW_WATCHER_GRACE_MS + 500);
  // Past the bound for longer than the grace period: dropped.
  await new Promise((r) => setTimeout(r, SLOW_WATCHER_GRACE_MS + 1000));
  const got = await ended;
  t.true(got < total * value.length, `the slow watcher was cut off (${got} bytes of ${total * value.length})`);
  t.true(got > 0);
  await new Promise((r) => setTimeout(r, 300));
  t.true(fastBytes >= total * value.length, `the reading watcher got everything (${fastBytes})`);
  t.true(MAX_WATCH_BACKLOG_BYTES <= 4 * 1024 * 1024);
  fast.destroy();
});

test('watchLine: one Buffer per record and type, shared', async (t) => {
  const store = new MemoryStore();
  await store.open();
  const seen: Buffer[] = [];
  const subs = [1, 2].map(() => store.watch({ resource: R.configmaps }, (ev) => seen.push(ev.watchLine!('ADDED'))));
  await store.create(R.configmaps, { ...cm('x'), metadata: { name: 'x', namespace: 'n' } });
  t.is(seen.length, 2);
  t.is(seen[0], seen[1], 'the same Buffer');
  t.deepEqual(Object.keys(JSON.parse(seen[0].toString())), ['type', 'object']);
  for (const s of subs) s.stop();
  await store.close();
});
