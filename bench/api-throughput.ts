// Issue #2's API figures: creates/s and lists/s of 1,000 Pod objects through HTTPS, and the server's
// RSS with 0 and with 10,000 stored objects. Only the API runs (every component disabled), so this
// measures the API, registry and store.
//   npm run build && node --import tsx bench/api-throughput.ts

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
  await pool(200, CONCURRENCY, (i) => server.client.create(R.pods, { ...pod(i), metadata: { ...pod(i).metadata, name: `warm-${i}` } }));
  const createSec = await pool(PODS, CONCURRENCY, (i) => server.client.create(R.pods, pod(i)));
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

  const rows = [
    '| figure | value | target |',
    '|---|---|---|',
    `| creates/s (${PODS} Pods, ${CONCURRENCY} concurrent HTTPS clients) | **${Math.round(PODS / createSec)}** | >= 2,000 |`,
    `| lists/s (list of ${list1.items.length} Pods, 4 concurrent) | **${(LISTS / listSec).toFixed(1)}** (${((listSec / LISTS) * 1000).toFixed(0)} ms per list) | — |`,
    `| server RSS, empty store | ${mib(rssEmpty)} | — |`,
    `| server RSS, ${TOTAL.toLocaleString('en')} stored objects | **${mib(rssFull)}** | < 100 MiB |`,
  ];
  writeSection('api-throughput', 'API throughput and memory (issue #2)', 'npm run build && node --import tsx bench/api-throughput.ts', rows.join('\n'));
} finally {
  await server.stop();
}
