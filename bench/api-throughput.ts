// Issue #2's API figures: creates/s and lists/s of 1,000 Pod objects through HTTPS, and the server's
// RSS with 0 and with 10,000 stored objects. Only the API runs (every component disabled), so this
// measures the API, registry and store.
//   npm run build && node --import tsx bench/api-throughput.ts

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { R } from '../src/api/resources.js';
import type { Pod } from '../src/api/types.js';
import { mib, rssBytes, startBenchServer, writeSection } from './lib.js';

const PODS = 1000;
const TOTAL = 10_000;
const CONCURRENCY = 32;

function pod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', labels: { app: 'bench', shard: String(i % 10) } },
    spec: { nodeName: 'nowhere', containers: [{ name: 'app', image: 'kubelite/echo:1', ports: [{ containerPort: 8080 }], resources: { limits: { cpu: '100m', memory: '32Mi' } } }] },
  };
}

/** Requests/s from `hey` (a Go client: it leaves the server, not the client, as the bottleneck). */
function hey(url: string, token: string, requested: number, c: number, extra: string[] = []): number {
  const n = requested - (requested % c); // hey gives each of its c workers n/c requests
  const out = execFileSync('hey', ['-n', String(n), '-c', String(c), '-H', `Authorization: Bearer ${token}`, ...extra, url], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const codes = [...out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  if (!rps) throw new Error(`hey printed no rate:\n${out}`);
  const ok = codes.filter(([code]) => code < 300).reduce((a, [, k]) => a + k, 0);
  if (ok !== n) throw new Error(`hey: ${ok} of ${n} requests succeeded:\n${out.slice(out.indexOf('Status code'))}`);
  return Number(rps[1]);
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await fn(next++);
  }));
  return (performance.now() - t0) / 1000;
}

const server = await startBenchServer(['--disable', 'agent,scheduler,controllers,proxy,dns,ingress']);
try {
  const pid = server.proc.pid!;
  await server.client.list(R.pods, { namespace: 'default' });
  await new Promise((r) => setTimeout(r, 1000));
  const rssEmpty = rssBytes(pid);

  // Warm the schema compiler and connections with other names first.
  await pool(200, CONCURRENCY, (i) => server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `warm-${i}`, namespace: 'default' }, data: { payload: 'x'.repeat(400) } }));
  const createSec = await pool(PODS, CONCURRENCY, (i) => server.client.create(R.pods, pod(i)));
  // The same creates from hey: Pods with generateName, so one body makes distinct objects.
  const token = server.client.conn.token!;
  const base = server.client.conn.server;
  const bodyFile = path.join(os.tmpdir(), `kubelite-bench-pod-${process.pid}.json`);
  fs.writeFileSync(bodyFile, JSON.stringify({ ...pod(0), metadata: { generateName: 'hey-', namespace: 'default', labels: { app: 'hey' } } }));
  const heyCreates = hey(`${base}/api/v1/namespaces/default/pods`, token, 2000, CONCURRENCY, ['-m', 'POST', '-T', 'application/json', '-D', bodyFile]);
  fs.rmSync(bodyFile);
  // Only the 1,000 Pods stay: the store holds 10,000 objects of a realistic mix below.
  const r = await server.client.raw('DELETE', '/api/v1/namespaces/default/pods?labelSelector=app%3Dhey');
  if (r.status !== 200) throw new Error(`deletecollection: ${r.status} ${r.body.slice(0, 200)}`);
  const heyVersion = hey(`${base}/version`, token, 4000, CONCURRENCY);
  const LISTS = 50;
  const listSec = await pool(LISTS, 4, () => server.client.list(R.pods, { namespace: 'default', labelSelector: 'app=bench' }));
  const list1 = await server.client.list(R.pods, { namespace: 'default', labelSelector: 'app=bench' });

  // Fill up to 10,000 stored objects with ConfigMaps of ~500 bytes.
  const have = 1200;
  await pool(TOTAL - have, CONCURRENCY, (i) => server.client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `fill-${i}`, namespace: 'default', labels: { app: 'fill' } }, data: { payload: 'x'.repeat(400) } }));
  // Settled: V8's memory reducer returns garbage pages after a few idle seconds, as a real idle server would.
  const samples: number[] = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 5000));
    samples.push(rssBytes(pid));
  }
  console.error('rss samples', samples.map(mib).join(', '));
  const rssFull = samples[samples.length - 1];
  const metrics = (await server.client.raw('GET', '/metrics')).body;
  const heapUsed = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? NaN);

  const rows = [
    '| figure | value | target |',
    '|---|---|---|',
    `| **creates/s** (2,000 Pods POSTed by \`hey\`, ${CONCURRENCY} keep-alive HTTPS connections) | **${Math.round(heyCreates)}** | >= 2,000 |`,
    `| baseline: GET /version/s with the same client (TLS, routing, auth; no store) | ${Math.round(heyVersion)} (creates at ${(heyCreates / heyVersion).toFixed(2)}x of it) | — |`,
    `| creates/s from a Node.js client (${PODS} Pods, ${CONCURRENCY} concurrent; client and server share the 2 cores) | ${Math.round(PODS / createSec)} | — |`,
    `| lists/s (list of ${list1.items.length} Pods, 4 concurrent) | **${(LISTS / listSec).toFixed(1)}** (${((listSec / LISTS) * 1000).toFixed(0)} ms per list) | — |`,
    `| server RSS, empty store | ${mib(rssEmpty)} | — |`,
    `| server RSS, ${TOTAL.toLocaleString('en')} stored objects (the 1,000 Pods, ConfigMaps for the rest), 30 s after the last write | **${mib(rssFull)}** | < 100 MiB |`,
    `| highest RSS sample while idle (5 s after the load) / V8 heap used at the end | ${mib(Math.max(...samples))} / ${mib(heapUsed)} | — |`,
  ];
  writeSection('api-throughput', 'API throughput and memory (issue #2)', 'npm run build && node --import tsx bench/api-throughput.ts', rows.join('\n'));
} finally {
  await server.stop();
}
