// Ingress benchmark, one run, side by side on loopback:
//  1. wrk (keep-alive) requests/s and latency through the kubelite Ingress vs Debian's nginx configured
//     by hand to proxy the same upstream "Pods" (nginx processes answering a static body);
//  2. change-to-effect latency: a new Ingress (new host, new Service) from upsert() to its first 200;
//  3. failed requests while the backend rolls (new Pod Ready, old Pod out of Endpoints, old Pod stops).
//  --node adds a third row: a minimal embedded Node proxy (http.Agent keep-alive, no routing at all),
//  the alternative the Ingress data path was chosen against.
// Run: node --import tsx bench/ingress-bench.ts [--duration 8] [--connections 50] [--rounds 3] [--node]

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Endpoints, Ingress, Service } from '../src/api/types.js';
import tls from 'node:tls';
import { generateDefaultCert, generateSelfSigned } from '../src/ingress/certs.js';
import { IngressControllerCore } from '../src/ingress/controller-core.js';
import { IngressProxy } from '../src/ingress/proxy.js';
import { freePort, getStatus, median, nginxProxyConfig, startNginx, stopProcess, versions, waitPort, wrk as wrkRun, type WrkResult } from './ingress-common.js';
import { writeSection } from './lib.js';
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const DURATION = arg('duration', 8);
const CONNECTIONS = arg('connections', 50);
const ROUNDS = arg('rounds', 3);
const WITH_NODE = process.argv.includes('--node');

// The best case for an embedded proxy: no routing, no headers rewritten beyond X-Forwarded-For.
const NODE_PROXY = `
const http = require('node:http');
const [port, ...ups] = process.argv.slice(1);
const targets = ups.map((u) => u.split(':'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
let i = 0;
http.createServer((req, res) => {
  const [host, p] = targets[i++ % targets.length];
  const up = http.request({ host, port: Number(p), method: req.method, path: req.url, agent,
    headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress } }, (ur) => {
    res.writeHead(ur.statusCode, ur.headers);
    ur.pipe(res);
  });
  up.on('error', () => { res.statusCode = 502; res.end(); });
  req.pipe(up);
}).listen(Number(port), '127.0.0.1');
`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kl-ingbench-'));
const children: ChildProcess[] = [];
const cleanups: (() => Promise<unknown> | unknown)[] = [];

/** An nginx of this run: its own prefix under the work dir, stopped at the end. */
async function nginx(name: string, body: string, listen: { ip: string; port: number }[]): Promise<ChildProcess> {
  const child = await startNginx(work, name, body, listen, name === 'reference' ? 'auto' : 1);
  children.push(child);
  return child;
}

/** A "Pod": answers every request with a fixed 64-byte body, keep-alive. */
async function pod(n: number): Promise<{ ip: string; port: number; proc: ChildProcess }> {
  const ip = `127.0.0.${10 + n}`;
  const port = await freePort(ip);
  const proc = await nginx(`pod${n}`, `  server { listen ${ip}:${port}; location / { return 200 "pod ${String(n).padEnd(4)} ${'x'.repeat(50)}\\n"; } }`, [{ ip, port }]);
  return { ip, port, proc };
}

async function stopNginx(p: ChildProcess): Promise<void> {
  await stopProcess(p, 'SIGQUIT'); // graceful: in-flight requests finish
}

const wrk = (port: number, host: string, seconds: number): Promise<WrkResult> => wrkRun(port, host, seconds, CONNECTIONS);

const svc = (name: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'bench' }, spec: { ports: [{ name: 'http', port: 80 }] } });
const eps = (name: string, ups: { ip: string; port: number }[]): Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name, namespace: 'bench' },
  subsets: ups.map((u) => ({ addresses: [{ ip: u.ip }], ports: [{ name: 'http', port: u.port }] })),
});
const ingress = (name: string, host: string, service: string): Ingress => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'bench', creationTimestamp: new Date().toISOString() },
  spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
});

async function main(): Promise<void> {
  const pods = [await pod(1), await pod(2)];

  const ingressPort = await freePort();
  const ingressTLSPort = await freePort();
  const proxy = new IngressProxy({ httpPort: ingressPort, httpsPort: ingressTLSPort, bindAddress: '127.0.0.1', runDir: path.join(work, 'ingress') });
  cleanups.push(() => proxy.stop());
  const core = new IngressControllerCore({ defaultCert: await generateDefaultCert(), proxy, address: '127.0.0.1' });
  core.upsert(svc('web'));
  core.upsert(eps('web', pods));
  core.upsert(ingress('web', 'web.bench.test', 'web'));
  core.rebuild();
  await proxy.start();

  const nginxPort = await freePort();
  await nginx('reference', nginxProxyConfig(nginxPort, pods), [{ ip: '127.0.0.1', port: nginxPort }]);
  const nodePort = await freePort();
  if (WITH_NODE) {
    const child = spawn(process.execPath, ['-e', NODE_PROXY, String(nodePort), ...pods.map((p) => `${p.ip}:${p.port}`)], { stdio: 'inherit' });
    children.push(child);
    await waitPort('127.0.0.1', nodePort);
  }
  for (const port of [ingressPort, nginxPort, ...(WITH_NODE ? [nodePort] : [])]) {
    const s = await getStatus(port, 'web.bench.test');
    if (s !== 200) throw new Error(`warm-up through port ${port} answered ${s}`);
  }

  // 1. throughput, interleaved rounds so both see the same machine load
  const ours: WrkResult[] = [];
  const ref: WrkResult[] = [];
  const node: WrkResult[] = [];
  await wrk(ingressPort, 'web.bench.test', 2);
  await wrk(nginxPort, 'web.bench.test', 2);
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(await wrk(ingressPort, 'web.bench.test', DURATION));
    ref.push(await wrk(nginxPort, 'web.bench.test', DURATION));
    if (WITH_NODE) node.push(await wrk(nodePort, 'web.bench.test', DURATION));
  }

  // 2. change-to-effect of a new Ingress to a new Service, idle and under load
  const effect = async (i: number): Promise<number> => {
    const host = `new${i}.bench.test`;
    core.upsert(svc(`new${i}`));
    core.upsert(eps(`new${i}`, pods));
    const t0 = performance.now();
    core.upsert(ingress(`new${i}`, host, `new${i}`));
    while (performance.now() - t0 < 5000) {
      if ((await getStatus(ingressPort, host)) === 200) return performance.now() - t0;
    }
    return Infinity;
  };
  const idle: number[] = [];
  for (let i = 0; i < 20; i++) idle.push(await effect(i));
  const loaded: number[] = [];
  const bg = wrk(ingressPort, 'web.bench.test', 4);
  await sleep(500);
  for (let i = 20; i < 30; i++) loaded.push(await effect(i));
  await bg;

  // 2b. change-to-effect of a TLS Secret: upsert() to the first handshake presenting the new certificate
  const secretHost = 'tls.bench.test';
  core.upsert({ ...ingress('tls', secretHost, 'web'), spec: { ...ingress('tls', secretHost, 'web').spec, tls: [{ hosts: [secretHost], secretName: 'tls' }] } });
  const fingerprint = () =>
    new Promise<string>((resolve) => {
      const sock = tls.connect({ host: '127.0.0.1', port: ingressTLSPort, servername: secretHost, rejectUnauthorized: false }, () => {
        resolve(sock.getPeerCertificate().fingerprint256);
        sock.destroy();
      });
      sock.on('error', () => resolve(''));
    });
  const secretEffect = async (): Promise<number> => {
    const pair = await generateSelfSigned({ commonName: secretHost, dnsNames: [secretHost] });
    const want = new (await import('node:crypto')).X509Certificate(pair.certPem).fingerprint256;
    const t0 = performance.now();
    core.upsert({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls', namespace: 'bench' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(pair.certPem).toString('base64'), 'tls.key': Buffer.from(pair.keyPem).toString('base64') },
    });
    while (performance.now() - t0 < 5000) if ((await fingerprint()) === want) return performance.now() - t0;
    return Infinity;
  };
  const secretIdle: number[] = [];
  for (let i = 0; i < 10; i++) secretIdle.push(await secretEffect());
  const secretLoaded: number[] = [];
  const bg2 = wrk(ingressPort, 'web.bench.test', 4);
  await sleep(500);
  for (let i = 0; i < 5; i++) secretLoaded.push(await secretEffect());
  await bg2;

  // 3. rolling update under keep-alive load: surge a new Pod, drop the old from Endpoints, stop it
  const rollSeconds = 6;
  const rolling = wrk(ingressPort, 'web.bench.test', rollSeconds);
  let current = [...pods];
  const rolled: ChildProcess[] = [];
  const t0 = performance.now();
  for (let step = 0; step < 4 && performance.now() - t0 < (rollSeconds - 1.5) * 1000; step++) {
    await sleep(400);
    const fresh = await pod(3 + step);
    const old = current[0];
    current = [...current.slice(1), fresh];
    core.upsert(eps('web', [old, ...current]));
    core.rebuild();
    await proxy.settled();
    await sleep(200);
    core.upsert(eps('web', current));
    core.rebuild();
    await proxy.settled();
    await sleep(100); // the Pod's grace period: Endpoints change first, then the process stops
    rolled.push(old.proc);
    await stopNginx(old.proc);
  }
  const roll = await rolling;

  const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const oRps = median(ours.map((x) => x.rps));
  const nRps = median(ref.map((x) => x.rps));
  const oP99 = median(ours.map((x) => x.p99));
  const nP99 = median(ref.map((x) => x.p99));
  const v = await versions();
  const command = `node --import tsx bench/ingress-bench.ts --duration ${DURATION} --connections ${CONNECTIONS} --rounds ${ROUNDS}${WITH_NODE ? ' --node' : ''}`;
  const lines = [
    'The data path alone (IngressProxy + IngressControllerCore in the bench process, no API server), upstream "Pods" are nginx processes on 127.0.0.x answering a 64-byte body. `bench/ingress-pods.ts` measures the same through a real server and real Pods.',
    '',
    `#### Throughput (wrk -t1 -c${CONNECTIONS} -d${DURATION}s keep-alive, median of ${ROUNDS} interleaved rounds)`,
    '',
    '| proxy | requests/s | p50 ms | p99 ms | rounds (rps) |',
    '|---|---:|---:|---:|---|',
    `| kubelite Ingress (HAProxy ${v.haproxy}, driven by kubelite) | ${fmt(oRps, 0)} | ${fmt(median(ours.map((x) => x.p50)))} | ${fmt(oP99)} | ${ours.map((x) => x.rps.toFixed(0)).join(', ')} |`,
    `| nginx by hand (Debian ${v.nginx}, worker_processes auto, upstream keepalive) | ${fmt(nRps, 0)} | ${fmt(median(ref.map((x) => x.p50)))} | ${fmt(nP99)} | ${ref.map((x) => x.rps.toFixed(0)).join(', ')} |`,
    ...(WITH_NODE
      ? [
          `| embedded Node proxy, for comparison (1 process, http.Agent keep-alive, no routing) | ${fmt(median(node.map((x) => x.rps)), 0)} | ${fmt(median(node.map((x) => x.p50)))} | ${fmt(median(node.map((x) => x.p99)))} | ${node.map((x) => x.rps.toFixed(0)).join(', ')} |`,
        ]
      : []),
    `| ratio kubelite / nginx (target rps >= 0.8, p99 <= 1.5) | ${fmt(oRps / nRps)} | | ${fmt(oP99 / nP99)} | |`,
    ...(WITH_NODE ? [`| ratio Node / nginx | ${fmt(median(node.map((x) => x.rps)) / nRps)} | | ${fmt(median(node.map((x) => x.p99)) / nP99)} | |`] : []),
    '',
    '#### Change to effect: new Ingress + Service, upsert() to first 200 (target < 100 ms)',
    '',
    '| condition | n | p50 ms | max ms |',
    '|---|---:|---:|---:|',
    `| idle | ${idle.length} | ${fmt(median(idle), 1)} | ${fmt(Math.max(...idle), 1)} |`,
    `| under wrk load | ${loaded.length} | ${fmt(median(loaded), 1)} | ${fmt(Math.max(...loaded), 1)} |`,
    `| TLS Secret replaced, idle (to first handshake with the new certificate) | ${secretIdle.length} | ${fmt(median(secretIdle), 1)} | ${fmt(Math.max(...secretIdle), 1)} |`,
    `| TLS Secret replaced, under wrk load | ${secretLoaded.length} | ${fmt(median(secretLoaded), 1)} | ${fmt(Math.max(...secretLoaded), 1)} |`,
    '',
    `#### Rolling the backend under load (${rolled.length} Pods replaced during wrk ${rollSeconds}s keep-alive; target 0 failed)`,
    '',
    '| requests | non-2xx | socket errors | rps |',
    '|---:|---:|---:|---:|',
    `| ${roll.requests} | ${roll.non2xx} | ${roll.socketErrors} | ${fmt(roll.rps, 0)} |`,
    '',
    `proxy reloads during the run: ${proxy.stats.reloads} (runtime API updates: ${proxy.stats.runtimeUpdates})`,
  ];
  writeSection('ingress-engine', `Ingress data path vs nginx, loopback upstreams (issue #7), ${os.cpus().length} cores`, command, lines.join('\n'));
  core.dispose();
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
    for (const c of children) if (c.exitCode === null) c.kill('SIGQUIT');
    await sleep(300);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });
