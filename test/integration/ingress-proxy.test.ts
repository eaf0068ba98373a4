// The ingress data path against upstream servers on loopback: HAProxy (started by IngressProxy on
// 127.0.0.1 ephemeral ports) in front of Node servers on 127.0.0.x. No Docker, no traffic off-host.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import test from 'ava';
import { WebSocket, WebSocketServer } from 'ws';
import type { Endpoints, Ingress, Secret, Service } from '../../src/api/types.js';
import { generateCA, generateDefaultCert, generateSelfSigned, type PemPair } from '../../src/ingress/certs.js';
import { IngressControllerCore } from '../../src/ingress/controller-core.js';
import { IngressProxy } from '../../src/ingress/proxy.js';

const run = promisify(execFile);

async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const cleanups: (() => unknown)[] = [];
test.after.always(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

async function listen(server: http.Server | net.Server, host: string): Promise<number> {
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanups.push(() => new Promise((r) => {
    (server as http.Server).closeAllConnections?.();
    server.close(r);
  }));
  return (server.address() as net.AddressInfo).port;
}

// ---------- upstreams ----------

/** Answers with what it saw, tagged with its own name. */
function echoServer(name: string): http.Server {
  return http.createServer((req, res) => {
    if (req.url?.startsWith('/slow')) {
      setTimeout(() => res.end(`${name} slow done ${'x'.repeat(100_000)}`), 1000);
      return;
    }
    if (req.url?.startsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
      setTimeout(() => res.end('second\n'), 600);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
  });
}

const svc = (name: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } });
const eps = (name: string, ups: { ip: string; port: number }[]): Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name, namespace: 'default' },
  subsets: ups.map((u) => ({ addresses: [{ ip: u.ip }], ports: [{ name: 'http', port: u.port }] })),
});
const ingress = (name: string, host: string, service: string, opts: { created?: string; tls?: string; paths?: string[] } = {}): Ingress => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'default', creationTimestamp: opts.created ?? '2024-01-01T00:00:00Z' },
  spec: {
    ...(opts.tls ? { tls: [{ hosts: [host], secretName: opts.tls }] } : {}),
    rules: [{ host, http: { paths: (opts.paths ?? ['/']).map((p) => ({ path: p, pathType: 'Prefix' as const, backend: { service: { name: service, port: { name: 'http' } } } })) } }],
  },
});
const secret = (name: string, p: PemPair): Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'default' },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(p.certPem).toString('base64'), 'tls.key': Buffer.from(p.keyPem).toString('base64') },
});

// ---------- shared fixture: one proxy for the file, tests run serially ----------

interface Fixture {
  proxy: IngressProxy;
  core: IngressControllerCore;
  httpPort: number;
  httpsPort: number;
  caFile: string;
  up: Record<string, { ip: string; port: number }>;
  apply(): Promise<void>;
}

let fixture: Promise<Fixture> | undefined;

function setup(): Promise<Fixture> {
  fixture ??= (async () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kl-ing-'));
    cleanups.push(() => fs.rmSync(runDir, { recursive: true, force: true }));
    const ca = await generateCA('ingress test CA');
    const caFile = path.join(runDir, 'ca.pem');
    fs.writeFileSync(caFile, ca.certPem);
    const certA = await generateSelfSigned({ commonName: 'a.test', dnsNames: ['a.test'], ca: { cert: ca.certPem, key: ca.keyPem } });
    const certB = await generateSelfSigned({ commonName: 'b.test', dnsNames: ['b.test'], ca: { cert: ca.certPem, key: ca.keyPem } });

    const up: Fixture['up'] = {
      a: { ip: '127.0.0.2', port: await listen(echoServer('A'), '127.0.0.2') },
      b: { ip: '127.0.0.3', port: await listen(echoServer('B'), '127.0.0.3') },
      refused: { ip: '127.0.0.9', port: await freePort('127.0.0.9') },
    };
    // accepts, reads, never answers
    const silent = net.createServer((s) => s.on('data', () => {}).on('error', () => {}));
    up.silent = { ip: '127.0.0.4', port: await listen(silent, '127.0.0.4') };
    const wsHttp = http.createServer((_q, res) => res.end('plain'));
    const wss = new WebSocketServer({ server: wsHttp });
    wss.on('connection', (sock) => sock.on('message', (m) => sock.send(`echo:${m.toString()}`)));
    cleanups.push(() => wss.close());
    up.ws = { ip: '127.0.0.5', port: await listen(wsHttp, '127.0.0.5') };

    const httpPort = await freePort();
    const httpsPort = await freePort();
    const proxy = new IngressProxy({ httpPort, httpsPort, bindAddress: '127.0.0.1', runDir: path.join(runDir, 'run'), headerTimeoutMs: 1000, serverTimeoutMs: 1500 });
    cleanups.push(() => proxy.stop());
    const core = new IngressControllerCore({ defaultCert: await generateDefaultCert(), proxy, address: '127.0.0.1' });
    cleanups.push(() => core.dispose());
    for (const o of [svc('plain'), svc('a'), svc('b'), svc('silent'), svc('ws'), svc('retry'), svc('roll')]) core.upsert(o);
    core.upsert(eps('a', [up.a]));
    core.upsert(eps('b', [up.b]));
    core.upsert(eps('plain', [up.b]));
    core.upsert(eps('silent', [up.silent]));
    core.upsert(eps('ws', [up.ws]));
    core.upsert(eps('retry', [up.refused, up.a]));
    core.upsert(secret('cert-a', certA));
    core.upsert(secret('cert-b', certB));
    core.upsert(ingress('a', 'a.test', 'a', { tls: 'cert-a' }));
    core.upsert(ingress('b', 'b.test', 'b', { tls: 'cert-b' }));
    core.upsert(ingress('plain', 'plain.test', 'plain'));
    core.upsert(ingress('silent', 'silent.test', 'silent'));
    core.upsert(ingress('ws', 'ws.test', 'ws'));
    core.upsert(ingress('retry', 'retry.test', 'retry'));
    core.rebuild();
    await proxy.start();
    const apply = async () => {
      core.rebuild();
      await proxy.settled();
    };
    return { proxy, core, httpPort, httpsPort, caFile, up, apply };
  })();
  return fixture;
}

function get(port: number, host: string, urlPath = '/', agent: http.Agent | false = false): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Raw bytes in, raw answer out (until the server closes or `ms` pass). */
function rawExchange(port: number, data: string, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.write(data);
    setTimeout(() => s.destroy(), ms);
  });
}

// ---------- tests ----------

test.serial('routes by host to the right upstream, with X-Forwarded-* set by the proxy', async (t) => {
  const f = await setup();
  const r = await get(f.httpPort, 'plain.test:1234', '/some/path?q=1');
  t.is(r.status, 200);
  const seen = JSON.parse(r.body);
  t.is(seen.name, 'B');
  t.is(seen.url, '/some/path?q=1');
  t.is(seen.headers['x-forwarded-for'], '127.0.0.1');
  t.is(seen.headers['x-forwarded-proto'], 'http');
  t.is(seen.headers['x-forwarded-host'], 'plain.test:1234');
  t.is(seen.headers.host, 'plain.test:1234', 'Host passes through unchanged');
  const spoofed = await new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port: f.httpPort, path: '/', headers: { host: 'plain.test', 'x-forwarded-for': '6.6.6.6' }, agent: false }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', (e) => resolve(String(e)));
  });
  t.is(JSON.parse(spoofed).headers['x-forwarded-for'], '127.0.0.1', 'a client-sent X-Forwarded-For is replaced');
});

test.serial('HTTP to a TLS host is redirected with 308 to the HTTPS port, path and query kept', async (t) => {
  const f = await setup();
  const r = await get(f.httpPort, 'a.test', '/x/y?z=1');
  t.is(r.status, 308);
  t.is(r.headers.location, `https://a.test:${f.httpsPort}/x/y?z=1`);
  t.is((await get(f.httpPort, 'plain.test', '/')).status, 200, 'hosts without TLS are not redirected');
});

test.serial('TLS by SNI: two hosts, two certificates, verified by curl against the test CA', async (t) => {
  const f = await setup();
  for (const [host, name] of [['a.test', 'A'], ['b.test', 'B']]) {
    const { stdout } = await run('curl', ['-sS', '--max-time', '5', '--resolve', `${host}:${f.httpsPort}:127.0.0.1`, '--cacert', f.caFile, `https://${host}:${f.httpsPort}/hello`]);
    const seen = JSON.parse(stdout);
    t.is(seen.name, name);
    t.is(seen.headers['x-forwarded-proto'], 'https');
  }
});

test.serial('a replaced TLS Secret is served at once, without a reload', async (t) => {
  const f = await setup();
  const ca = fs.readFileSync(f.caFile, 'utf8');
  const fresh = await generateSelfSigned({ commonName: 'b.test renewed', dnsNames: ['b.test'] });
  const reloads = f.proxy.stats.reloads;
  const cn = () =>
    new Promise<string>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: f.httpsPort, servername: 'b.test', rejectUnauthorized: false }, () => {
        resolve(String(s.getPeerCertificate().subject.CN));
        s.destroy();
      });
      s.on('error', () => resolve(''));
    });
  t.is(await cn(), 'b.test');
  const t0 = performance.now();
  f.core.upsert(secret('cert-b', fresh));
  let seen = '';
  while (performance.now() - t0 < 2000 && (seen = await cn()) !== 'b.test renewed');
  const took = performance.now() - t0;
  t.is(seen, 'b.test renewed');
  t.log(`new certificate served after ${took.toFixed(1)} ms`);
  await f.proxy.settled();
  t.is(f.proxy.stats.reloads, reloads);
  t.truthy(ca);
});

test.serial('unknown SNI gets the self-signed default certificate; curl refuses it against the CA', async (t) => {
  const f = await setup();
  const cn = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: f.httpsPort, servername: 'unknown.test', rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subject.CN));
      s.destroy();
    });
    s.on('error', reject);
  });
  t.is(cn, 'Kubelite Ingress Default Certificate');
  const err = await run('curl', ['-sS', '--max-time', '5', '--resolve', `unknown.test:${f.httpsPort}:127.0.0.1`, '--cacert', f.caFile, `https://unknown.test:${f.httpsPort}/`]).catch((e) => e);
  t.regex(String(err.stderr), /certificate|SSL/i);
});

test.serial('404 from the default backend and 503 for a missing Service, with clear text', async (t) => {
  const f = await setup();
  const nf = await get(f.httpPort, 'nothing.test', '/');
  t.is(nf.status, 404);
  t.regex(nf.body, /no Ingress rule matches this host and path/);
  f.core.upsert(ingress('ghost', 'ghost.test', 'ghost'));
  await f.apply();
  const un = await get(f.httpPort, 'ghost.test', '/');
  t.is(un.status, 503);
  t.regex(un.body, /service default\/ghost does not exist/);
  f.core.upsert(svc('ghost'));
  f.core.upsert(eps('ghost', []));
  await f.apply();
  t.regex((await get(f.httpPort, 'ghost.test', '/')).body, /service default\/ghost port 80 has no ready endpoints/);
});

test.serial('a refused endpoint is retried on another one: no request fails', async (t) => {
  const f = await setup();
  const statuses = await Promise.all(Array.from({ length: 20 }, () => get(f.httpPort, 'retry.test', '/').then((r) => r.status)));
  t.deepEqual([...new Set(statuses)], [200]);
});

test.serial('WebSocket upgrade is passed through both ways', async (t) => {
  const f = await setup();
  const ws = new WebSocket(`ws://127.0.0.1:${f.httpPort}/chat`, { headers: { host: 'ws.test' } });
  t.teardown(() => ws.terminate());
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const replies: string[] = [];
  ws.on('message', (m) => replies.push(m.toString()));
  ws.send('one');
  ws.send('two');
  const t0 = Date.now();
  while (replies.length < 2 && Date.now() - t0 < 3000) await sleep(5);
  t.deepEqual(replies, ['echo:one', 'echo:two']);
});

test.serial('a streamed response arrives chunk by chunk, not buffered to the end', async (t) => {
  const f = await setup();
  const t0 = performance.now();
  const times = await new Promise<{ first: number; end: number; body: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: f.httpPort, path: '/stream', headers: { host: 'plain.test' }, agent: false }, (res) => {
      let first = 0;
      let body = '';
      res.on('data', (d) => {
        if (!first) first = performance.now() - t0;
        body += d;
      });
      res.on('end', () => resolve({ first, end: performance.now() - t0, body }));
    }).on('error', reject);
  });
  t.is(times.body, 'first\nsecond\n');
  t.true(times.first < 400, `first chunk after ${times.first.toFixed(0)} ms`);
  t.true(times.end >= 550, `end after ${times.end.toFixed(0)} ms`);
});

test.serial('a backend that never answers gets 504 while other routes keep answering', async (t) => {
  const f = await setup();
  const t0 = performance.now();
  const stuck = get(f.httpPort, 'silent.test', '/');
  await sleep(100);
  const others = await Promise.all(Array.from({ length: 5 }, () => get(f.httpPort, 'plain.test', '/')));
  t.true(performance.now() - t0 < 1000, 'other routes answered before the timeout');
  t.deepEqual(others.map((o) => o.status), [200, 200, 200, 200, 200]);
  const r = await stuck;
  t.is(r.status, 504);
  t.regex(r.body, /Gateway Timeout/);
});

test.serial('oversized and malformed request heads are refused with 400/431, the proxy stays up', async (t) => {
  const f = await setup();
  const big = await rawExchange(f.httpPort, `GET / HTTP/1.1\r\nHost: plain.test\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
  t.regex(big, /^HTTP\/1\.[01] (400|431)/);
  const bad = await rawExchange(f.httpPort, 'GET / HTTP/1.1\r\nHost: plain.test\r\nNo colon here\r\n\r\n');
  t.regex(bad, /^HTTP\/1\.[01] 400/);
  const garbage = await rawExchange(f.httpPort, '\x16\x03\x01 not http at all\r\n\r\n');
  t.regex(garbage, /^HTTP\/1\.[01] 400/);
  t.is((await get(f.httpPort, 'plain.test', '/')).status, 200);
});

test.serial('a slowloris client is timed out (408) while other requests keep flowing', async (t) => {
  const f = await setup();
  const sock = net.connect(f.httpPort, '127.0.0.1');
  t.teardown(() => sock.destroy());
  let answer = '';
  let closedAt = 0;
  const t0 = performance.now();
  sock.setEncoding('utf8');
  sock.on('data', (d) => (answer += d));
  sock.on('close', () => (closedAt = performance.now() - t0));
  sock.on('error', () => {});
  sock.write('GET / HTTP/1.1\r\nHost: plain.test\r\n');
  const drip = setInterval(() => sock.writable && sock.write('X-Drip: 1\r\n'), 100);
  t.teardown(() => clearInterval(drip));
  let ok = 0;
  while (performance.now() - t0 < 900) {
    if ((await get(f.httpPort, 'plain.test', '/')).status === 200) ok++;
  }
  while (!closedAt && performance.now() - t0 < 4000) await sleep(20);
  clearInterval(drip);
  t.true(ok > 5, `${ok} requests served meanwhile`);
  t.true(closedAt > 0 && closedAt < 2500, `slow client closed after ${closedAt.toFixed(0)} ms`);
  t.regex(answer, /^HTTP\/1\.[01] 408/);
});

test.serial('a new Ingress is live at once; a swap and a reload never cut a request in flight', async (t) => {
  const f = await setup();
  // in flight on the old table: 1 s upstream delay, 100 kB body
  const inflight = get(f.httpPort, 'plain.test', '/slow');
  await sleep(100);
  const t0 = performance.now();
  f.core.upsert(ingress('fresh', 'fresh.test', 'a', { created: '2025-01-01T00:00:00Z' }));
  f.core.upsert(ingress('plain', 'plain.test', 'a')); // plain.test now goes to A
  f.core.rebuild();
  let status = 0;
  while (performance.now() - t0 < 1000) {
    status = (await get(f.httpPort, 'fresh.test', '/')).status;
    if (status === 200) break;
  }
  const took = performance.now() - t0;
  t.is(status, 200);
  t.log(`new Ingress live after ${took.toFixed(1)} ms`);
  t.is(JSON.parse((await get(f.httpPort, 'plain.test', '/')).body).name, 'A');
  // outgrowing the 8 server slots per backend is a real HAProxy reload
  const reloadsBefore = f.proxy.stats.reloads;
  f.core.upsert(svc('many'));
  f.core.upsert(eps('many', Array.from({ length: 9 }, (_, i) => ({ ip: `127.0.1.${i + 1}`, port: 9 }))));
  f.core.upsert(ingress('many', 'many.test', 'many'));
  await f.apply();
  t.is(f.proxy.stats.reloads, reloadsBefore + 1);
  t.is((await get(f.httpPort, 'fresh.test', '/')).status, 200, 'routes survive the reload');
  const r = await inflight;
  t.is(r.status, 200);
  t.true(r.body.startsWith('B slow done') && r.body.length > 100_000, 'completed on the old route');
});

test.serial('endpoints rolling from one upstream to another fail no request', async (t) => {
  const f = await setup();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());
  const startPod = async (i: number) => {
    const server = echoServer(`R${i}`);
    const ip = `127.0.0.${5 + i}`;
    return { server, ep: { ip, port: await listen(server, ip) } };
  };
  let current = await startPod(1);
  f.core.upsert(eps('roll', [current.ep]));
  f.core.upsert(ingress('roll', 'roll.test', 'roll'));
  await f.apply();
  let failures = 0;
  let done = 0;
  const seen = new Set<string>();
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const r = await get(f.httpPort, 'roll.test', '/', agent).catch(() => ({ status: 0, body: '{}' }));
      if (r.status !== 200) failures++;
      else seen.add(JSON.parse(r.body).name);
      done++;
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  for (let i = 2; i <= 4; i++) {
    await sleep(100);
    const next = await startPod(i);
    f.core.upsert(eps('roll', [current.ep, next.ep])); // surge: the new Pod is Ready
    await f.apply();
    await sleep(100);
    f.core.upsert(eps('roll', [next.ep])); // the old Pod leaves the Endpoints...
    await f.apply();
    await sleep(50);
    current.server.closeAllConnections(); // ...and then stops
    current.server.close();
    current = next;
  }
  await sleep(150);
  stop = true;
  await Promise.all(workers);
  t.true(done > 50, `${done} requests`);
  t.is(failures, 0);
  t.deepEqual([...seen].sort(), ['R1', 'R2', 'R3', 'R4']);
});
