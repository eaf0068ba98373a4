// The echo image's HTTP handler and scripts, run by the host's busybox (the same binary the images
// copy): one request on stdin, the response on stdout. No Docker, no network.

import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ECHO_SERVER, HTTP_ECHO, TCP_ECHO, UDP_ECHO_UNSUPPORTED } from '../../../src/images/echo-scripts.js';
import { PAUSE } from '../../../src/images/pause-script.js';
import { findBusybox } from '../../../src/images/host-inputs.js';

const busybox = await findBusybox();

interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: string;
  ms: number;
  log: string;
}

interface Setup {
  env?: Record<string, string>;
  /** state files to create, as `docker exec touch /tmp/...` would */
  state?: Array<'unhealthy' | 'unready'>;
}

async function exchange(t: { teardown(fn: () => Promise<void>): void }, request: string, setup: Setup = {}): Promise<Exchange> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubelite-echo-'));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.mkdir(path.join(dir, 'www'));
  await fs.mkdir(path.join(dir, 'state'));
  await fs.writeFile(path.join(dir, 'www', 'static'), 'kubelite static page\n');
  const script = path.join(dir, 'http-echo');
  await fs.writeFile(script, HTTP_ECHO);
  for (const name of setup.state ?? []) await fs.writeFile(path.join(dir, 'state', name), '');
  const start = performance.now();
  const child = spawn(busybox, ['sh', script], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ECHO_STATE_DIR: path.join(dir, 'state'), ECHO_WWW: path.join(dir, 'www'), POD_NAME: 'pod-a', POD_IP: '10.244.0.7', ...setup.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let log = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  child.stdin.end(request);
  await new Promise((resolve) => child.on('close', resolve));
  const ms = performance.now() - start;
  const split = out.indexOf('\r\n\r\n');
  const head = out.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head[0])?.[1]);
  const body = out.slice(split + 4);
  return { status, headers, body, ms, log };
}

const get = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: shop.example.test\r\nUser-Agent: t\r\n${extra}\r\n`;

test('every other path answers with pod, ip, path (no query) and Host', async (t) => {
  const r = await exchange(t, get('/some/path?x=1&y=2'));
  t.is(r.status, 200);
  t.is(r.body, 'pod=pod-a ip=10.244.0.7 path=/some/path host=shop.example.test\n');
  t.is(Number(r.headers['content-length']), Buffer.byteLength(r.body));
  t.is(r.headers['x-pod-name'], 'pod-a');
  t.is(r.headers.connection, 'close');
  t.is(r.log, 'GET /some/path?x=1&y=2 200 host=shop.example.test\n');
});

test('without POD_NAME the hostname names the pod; QUIET silences the request log', async (t) => {
  const hostname = (await fs.readFile('/proc/sys/kernel/hostname', 'utf8')).trim();
  const r = await exchange(t, get('/'), { env: { POD_NAME: '', QUIET: '1' } });
  t.is(r.body, `pod=${hostname} ip=10.244.0.7 path=/ host=shop.example.test\n`);
  t.is(r.log, '');
});

test('header names are case-insensitive and values are trimmed; HTTP/1.0 without Host works', async (t) => {
  const r = await exchange(t, 'GET /a HTTP/1.1\r\nhOsT: \t spaced.test \t\r\n\r\n');
  t.is(r.body, 'pod=pod-a ip=10.244.0.7 path=/a host=spaced.test\n');
  const old = await exchange(t, 'GET /b HTTP/1.0\r\n\r\n');
  t.is(old.body, 'pod=pod-a ip=10.244.0.7 path=/b host=\n');
});

test('/healthz and /ready: 200 ok, 500 with /tmp/unhealthy, 503 with /tmp/unready', async (t) => {
  t.deepEqual(await exchange(t, get('/healthz')).then((r) => [r.status, r.body]), [200, 'ok\n']);
  t.deepEqual(await exchange(t, get('/ready')).then((r) => [r.status, r.body]), [200, 'ok\n']);
  t.deepEqual(await exchange(t, get('/healthz'), { state: ['unhealthy'] }).then((r) => [r.status, r.body]), [500, 'unhealthy\n']);
  t.deepEqual(await exchange(t, get('/ready'), { state: ['unready'] }).then((r) => [r.status, r.body]), [503, 'unready\n']);
  t.deepEqual(await exchange(t, get('/ready'), { state: ['unhealthy'] }).then((r) => [r.status, r.body]), [200, 'ok\n']);
});

test('/static returns the static page; HEAD sends headers only', async (t) => {
  const r = await exchange(t, get('/static'));
  t.is(r.body, 'kubelite static page\n');
  const head = await exchange(t, 'HEAD /static HTTP/1.1\r\nHost: h\r\n\r\n');
  t.is(head.status, 200);
  t.is(head.body, '');
  t.is(head.headers['content-length'], String(Buffer.byteLength(r.body)));
});

test('/sleep?ms=N waits N ms; a missing or bad ms is a 400', async (t) => {
  const r = await exchange(t, get('/sleep?a=b&ms=120&c=d'));
  t.is(r.status, 200);
  t.true(r.ms >= 120, `${r.ms} ms`);
  t.is(r.headers['x-slept-ms'], '120');
  t.is(r.body, 'pod=pod-a ip=10.244.0.7 path=/sleep host=shop.example.test\n');
  for (const target of ['/sleep', '/sleep?ms=', '/sleep?ms=1e3', '/sleep?xms=5', '/sleep?ms=99999999']) {
    t.is((await exchange(t, get(target))).status, 400, target);
  }
});

test('a request body is read (drained) before the answer', async (t) => {
  const r = await exchange(t, 'POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello=world');
  t.is(r.status, 200);
  t.is(r.body, 'pod=pod-a ip=10.244.0.7 path=/form host=h\n');
});

test('an empty connection ends quietly', async (t) => {
  const r = await exchange(t, '');
  t.is(r.body, '');
  t.is(r.log, '');
});

test('every image script parses under busybox sh', (t) => {
  for (const [name, text] of Object.entries({ HTTP_ECHO, ECHO_SERVER, TCP_ECHO, UDP_ECHO_UNSUPPORTED, PAUSE })) {
    const res = spawnSync(busybox, ['sh', '-n', '-c', text], { encoding: 'utf8' });
    t.is(res.status, 0, `${name}: ${res.stderr}`);
    t.true(text.startsWith('#!/bin/sh\n'), name);
  }
});

test('echo-server refuses a PORT that is not a port number', (t) => {
  const res = spawnSync(busybox, ['sh', '-c', ECHO_SERVER], { env: { PORT: '80a', PATH: '/bin' }, encoding: 'utf8' });
  t.is(res.status, 2);
  t.regex(res.stderr, /PORT=80a is not a port number/);
});
