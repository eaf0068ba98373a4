// Issue #13's store figures, side by side in one run: API creates/s and p99 with the store on one
// local etcd member vs on LevelDB (the default), the same server flags otherwise. Only the API runs
// (every component disabled), so this measures API + registry + store. etcd is Debian's etcd-server
// 3.4 with its data in a temp dir on the same disk, default durability (fsync per commit).
//   npm run build && node --import tsx bench/etcd-store.ts

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBenchServer, writeSection, type BenchServer } from './lib.js';
import { startEtcd } from '../test/helpers/etcd.js';

const N = Number(process.env.BENCH_CREATES ?? 3000);
const CONCURRENCY = 32;
const OFF = ['--disable', 'agent,scheduler,controllers,proxy,dns,ingress'];

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

/** `hey` POSTs Pods with generateName (one body, distinct objects); requests/s and latency percentiles in ms. */
function heyCreates(server: BenchServer, n: number): Figures {
  const body = path.join(os.tmpdir(), `kubelite-bench-etcd-${process.pid}.json`);
  fs.writeFileSync(body, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'hey-', namespace: 'default', labels: { app: 'hey' } }, spec: { nodeName: 'nowhere', containers: [{ name: 'app', image: 'kubelite/echo:1' }] } }));
  try {
    const reqs = n - (n % CONCURRENCY);
    const out = execFileSync('hey', ['-n', String(reqs), '-c', String(CONCURRENCY), '-m', 'POST', '-T', 'application/json', '-D', body, '-H', `Authorization: Bearer ${server.client.conn.token}`, `${server.client.conn.server}/api/v1/namespaces/default/pods`], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const pct = (p: number) => Number(new RegExp(`${p}%% in ([\\d.]+) secs`.replace('%%', '%')).exec(out)?.[1]) * 1000;
    const ok = [...out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)].filter((m) => Number(m[1]) < 300).reduce((a, m) => a + Number(m[2]), 0);
    if (ok !== reqs || !rps) throw new Error(`hey: ${ok} of ${reqs} creates succeeded:\n${out.slice(-1500)}`);
    return { rps, p50: pct(50), p99: pct(99) };
  } finally {
    fs.rmSync(body, { force: true });
  }
}

async function measure(args: string[], instance: string): Promise<Figures> {
  const server = await startBenchServer([...OFF, ...args], { instance });
  try {
    heyCreates(server, 500); // warm-up: JIT, schema compiler, connections
    return heyCreates(server, N);
  } finally {
    await server.stop();
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
}

const load = os.loadavg()[0]!;
const level = await measure([], 'b50');
const etcd = await startEtcd();
let onEtcd: Figures;
try {
  onEtcd = await measure(['--store', etcd.url], 'b51');
} finally {
  await etcd.stop();
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const rows = [
  '| store | creates/s | p50 | p99 | target |',
  '|---|---|---|---|---|',
  `| LevelDB (default; baseline) | ${Math.round(level.rps)} | ${ms(level.p50)} | ${ms(level.p99)} | — |`,
  `| **etcd**, one local member | **${Math.round(onEtcd.rps)}** (${(onEtcd.rps / level.rps).toFixed(2)}x LevelDB) | ${ms(onEtcd.p50)} | **${ms(onEtcd.p99)}** | >= 1,000/s, p99 < 20 ms: ${onEtcd.rps >= 1000 && onEtcd.p99 < 20 ? 'met' : 'missed'} |`,
];
const notes = `${N.toLocaleString('en')} Pods POSTed by \`hey\` (${CONCURRENCY} keep-alive HTTPS connections) after 500 warm-up creates, to a server with every component off; etcd 3.4 (Debian) on loopback with its data on the same disk, fsync per commit as by default. Each etcd create is one transaction (compare create_revision, put the object and \`meta/rev\`), a consistent read of the namespace before it (shared by concurrent requests), and the wait for the server's own watch to deliver it. The 1-minute load average was ${load.toFixed(1)} when the run started (the machine is shared).`;
writeSection('etcd-store', 'The store on etcd vs LevelDB: API creates (issue #13)', 'npm run build && node --import tsx bench/etcd-store.ts', `${rows.join('\n')}\n\n${notes}`);
