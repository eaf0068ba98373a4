// Cluster DNS benchmark: 10,000 Services in the index, the DNSServer on 127.0.0.1 pinned to CPU 0,
// dnsperf pinned to CPU 1, a query file of cluster names (hits, headless, SRV, NODATA, NXDOMAIN).
// Writes a markdown table, with the dnsperf command of every row, into BENCHMARKS.md (section dns-perf)
// and prints it. The upstream is a loopback stub: nothing leaves the machine.
//   node --expose-gc --import tsx bench/dns-perf.ts [seconds]

import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Endpoints, Service } from '../src/api/types.js';
import { ClusterDNSIndex } from '../src/dns/records.js';
import { DNSServer } from '../src/dns/server.js';
import { startDNSStub } from '../test/helpers/dns-stub.js';
import { runDnsLoad, type DnsLoadResult } from './dns-load.js';
import { writeSection } from './lib.js';

const SECONDS = Number(process.argv[2] ?? 10);
const SERVICES = 10_000;
const NAMESPACES = 100;
const HEADLESS_EVERY = 10;

const cpus = os.cpus().length;
const serverCPU = 0;
const loadCPU = cpus > 1 ? 1 : undefined;
if (cpus > 1) {
  // -a: every thread of this process, so the libuv pool does not wander onto dnsperf's core.
  execFileSync('taskset', ['-apc', String(serverCPU), String(process.pid)], { stdio: 'ignore' });
}

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

// Deterministic pseudo-random numbers: the same query file every run.
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (n: number) => Math.floor(rnd() * n);

function buildIndex(): { index: ClusterDNSIndex; heapBytes: number; ms: number } {
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  const index = new ClusterDNSIndex();
  for (let i = 0; i < SERVICES; i++) {
    const ns = `ns${i % NAMESPACES}`;
    const name = `svc${i}`;
    const headless = i % HEADLESS_EVERY === 0;
    const svc: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: ns, name },
      spec: {
        clusterIP: headless ? 'None' : `10.96.${(i >> 8) & 255}.${i & 255}`,
        ports: [
          { name: 'http', port: 80, protocol: 'TCP' },
          { name: 'metrics', port: 9090, protocol: 'TCP' },
        ],
      },
    };
    index.upsertService(svc);
    if (headless) {
      const ep: Endpoints = {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { namespace: ns, name },
        subsets: [{ addresses: [1, 2, 3].map((k) => ({ ip: `10.244.${(i >> 6) & 255}.${((i & 63) << 2) + k}` })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
      };
      index.upsertEndpoints(ep);
    }
  }
  const ms = performance.now() - started;
  gc?.();
  return { index, heapBytes: process.memoryUsage().heapUsed - before, ms };
}

function queryFile(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const r = rnd();
    let n = pick(SERVICES);
    const ns = () => `ns${n % NAMESPACES}`;
    if (r < 0.6) {
      if (n % HEADLESS_EVERY === 0) n++;
      lines.push(`svc${n}.${ns()}.svc.cluster.local A`);
    } else if (r < 0.7) {
      n -= n % HEADLESS_EVERY;
      lines.push(`svc${n}.${ns()}.svc.cluster.local A`);
    } else if (r < 0.8) {
      lines.push(`_http._tcp.svc${n}.${ns()}.svc.cluster.local SRV`);
    } else if (r < 0.9) {
      lines.push(`svc${n}.${ns()}.svc.cluster.local AAAA`);
    } else {
      // the search-path misses a Pod with ndots:5 really sends
      lines.push(`svc${n}.${ns()}.svc.cluster.local.${ns()}.svc.cluster.local A`);
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const stub = await startDNSStub({ records: {} });
  const { index, heapBytes, ms } = buildIndex();
  const queries = queryFile();
  const mkServer = (responseCacheSize?: number) =>
    new DNSServer({ index, domain: 'cluster.local', ttl: 5, listen: [{ address: '127.0.0.1', port: 0 }], upstreams: [stub.address], responseCacheSize });

  // How long anything else in the process (the API server) waits for the event loop under DNS load.
  type Loop = { p50: number; p99: number; max: number };
  const rows: { label: string; r: DnsLoadResult; loop: Loop }[] = [];
  const run = async (label: string, server: { addresses: { port: number }[] }, o: { maxQps?: number; percentiles?: boolean; tcp?: boolean; seconds?: number }) => {
    const port = server.addresses[0].port;
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const r = await runDnsLoad({ server: '127.0.0.1', port, queries, durationSec: o.seconds ?? SECONDS, cpu: loadCPU, clients: 4, outstanding: 200, ...o });
    h.disable();
    const loop = { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 };
    rows.push({ label, r, loop });
    console.error(`${label}: ${r.qps.toFixed(0)} qps, p99 ${r.p99Ms?.toFixed(3) ?? '-'} ms, lost ${r.lost}, loop delay p99 ${loop.p99.toFixed(2)} ms`);
  };

  // The platform's floor: a Node UDP socket that echoes each query back as an empty answer, no DNS
  // work at all. Its tail is what this (shared, virtualised) machine adds to any Node server.
  const echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => {
    m[2] |= 0x80;
    echo.send(m, r.port, r.address);
  });
  await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
  await run('baseline: bare Node UDP echo, fixed 20,000 qps', { addresses: [{ port: echo.address().port }] }, { maxQps: 20_000, percentiles: true });
  echo.close();

  const cached = mkServer();
  await cached.start();
  await run('warm-up', cached, { seconds: 2 });
  rows.pop();
  await run('saturating, response cache on', cached, {});
  await run('saturating, response cache on, per-query latencies (-v)', cached, { percentiles: true });
  await run('fixed 20,000 qps, response cache on', cached, { maxQps: 20_000, percentiles: true });
  await run('saturating over TCP', cached, { tcp: true, percentiles: true });
  await cached.stop();

  const uncached = mkServer(0);
  await uncached.start();
  await run('saturating, response cache off (answer() + encode per query)', uncached, { percentiles: true });
  await run('fixed 20,000 qps, response cache off', uncached, { maxQps: 20_000, percentiles: true });
  await uncached.stop();
  await stub.close();

  const f = (x: number | undefined, d = 3) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  const out: string[] = [];
  const title = `Cluster DNS: ${SERVICES.toLocaleString('en')} Services (${SERVICES / HEADLESS_EVERY} headless with 3 endpoints), ${SECONDS} s per run`;
  out.push(`Machine: ${cpus} CPU (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}; server pinned to CPU ${serverCPU}, dnsperf to CPU ${loadCPU ?? '(same)'}; load average at start ${os.loadavg()[0].toFixed(2)} (other work shares these cores).`);
  out.push(`Index: built in ${ms.toFixed(0)} ms, ${gc ? mib(heapBytes) : '(run with --expose-gc for heap)'} of heap for ${SERVICES} Services + ${SERVICES / HEADLESS_EVERY} Endpoints.`);
  out.push('Query mix: 60% ClusterIP A, 10% headless A (3 records), 10% SRV, 10% AAAA (NODATA), 10% search-path NXDOMAIN; 20,000 distinct lines.');
  out.push('');
  out.push('| run | qps | lost | avg ms | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | event-loop delay p99 / max ms | rcodes |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const { label, r, loop } of rows) {
    const rc = Object.entries(r.rcodes).map(([k, v]) => `${k} ${v}`).join(', ');
    out.push(`| ${label} | ${r.qps.toFixed(0)} | ${r.lost} | ${f(r.avgMs)} | ${f(r.p50Ms)} | ${f(r.p90Ms)} | ${f(r.p99Ms)} | ${f(r.p999Ms)} | ${f(r.maxMs)} | ${f(loop.p99, 2)} / ${f(loop.max, 1)} | ${rc} |`);
  }
  out.push('');
  out.push('Latency columns are dnsperf\'s (client side, per query with -v). Event-loop delay is measured in the server process during the run: how long other work in that process (the API) would wait for its turn.');
  out.push('');
  out.push('Commands (query file written to a temp dir; the port is the server\'s, picked at start):');
  out.push('');
  for (const { label, r } of rows) out.push(`- ${label}: \`${r.command.replace(/-d \S+/, '-d queries.txt')}\``);
  writeSection('dns-perf', title, `node --expose-gc --import tsx bench/dns-perf.ts ${SECONDS}`, out.join('\n'));
}

await main();
