// Issue #5: does the API stay responsive while the embedded DNS server is flooded? The full server
// (agent, proxier, controllers, DNS; instance b45, its own address ranges) holds 10,000 Services loaded
// through the API. Then 1,000 sequential GETs of one Service and 1,000 sequential lists of a small
// namespace are timed without DNS load, under a fixed-rate DNS load and under a saturating one
// (dnsperf against the DNS server's listen address on the pod bridge, a local address, with a query
// mix of real Service names, SRV, NODATA and search-path NXDOMAINs). Writes section dns-api-latency.
//   npm run build && node --import tsx bench/dns-api-latency.ts [requests per series] [--disable COMPONENTS]
// `--disable controllers` leaves out the ReplicaSet/Deployment/GC/namespace controllers, which play no
// part in Services or DNS (the Endpoints controller belongs to the services component and stays).

import fs from 'node:fs';
import os from 'node:os';
import type { Namespace, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { isLocalAddress } from '../src/dns/listen.js';
import { DNS_LISTEN_ANNOTATION } from '../src/dns/publish.js';
import { runDnsLoad, type DnsLoadResult } from './dns-load.js';
import { percentile, writeSection, type BenchServer } from './lib.js';
import { finish, startServiceBench, type ServicePlan } from './services-common.js';

const argv = process.argv.slice(2);
const disableAt = argv.indexOf('--disable');
const EXTRA_DISABLED = disableAt >= 0 ? (argv.splice(disableAt, 2)[1] ?? '').split(',').filter(Boolean) : [];
const REQUESTS = Number(argv[0] ?? 1000);
const SERVICES = 10_000;
const NAMESPACES = 100;
const SMALL_NS = 'small';
const SMALL_SERVICES = 5;

// The Service benches' slot plan for b45 (slot 43 is pods-rss'), except the service CIDR: 10,000
// ClusterIPs need more than a /24. 10.112.0.0/18 lies outside the default 10.96.0.0/12 and every test
// slot's range.
const plan: ServicePlan = {
  slot: 45,
  instance: 'b45',
  podCIDR: '10.200.45.0/24',
  serviceCIDR: '10.112.0.0/18',
  lbPool: '10.202.45.0/24',
  nodePortRange: [24500, 24599],
  args: [],
};
plan.args = [
  '--pod-cidr', plan.podCIDR,
  '--service-cidr', plan.serviceCIDR,
  '--cluster-dns', '10.112.0.10',
  '--service-node-port-range', `${plan.nodePortRange[0]}-${plan.nodePortRange[1]}`,
  '--dns-ttl', '5',
  // No upstream at all: the query mix is cluster names only, and nothing may reach the host's resolver.
  '--upstream-dns', '127.0.0.1:9',
  '--disable', ['ingress', ...EXTRA_DISABLED].join(','),
];
const running = ['agent', 'scheduler', 'controllers', 'proxy', 'dns'].filter((c) => !EXTRA_DISABLED.includes(c));

function service(ns: string, name: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** CPU seconds the server process has used (utime + stime). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Waits until the server is nearly idle (the proxier and controllers done with the load) for 3 s in a row; returns the seconds waited. */
async function settle(pid: number, maxMs = 300_000): Promise<number> {
  const t0 = Date.now();
  let quiet = 0;
  let last = cpuSeconds(pid);
  while (Date.now() - t0 < maxMs && quiet < 3) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuSeconds(pid);
    quiet = now - last < 0.05 ? quiet + 1 : 0;
    last = now;
  }
  return (Date.now() - t0) / 1000;
}

interface Series {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  perSec: number;
}

async function timeSeries(server: BenchServer, n: number, path: () => string): Promise<Series> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const r = await server.client.raw('GET', path());
    lat.push(performance.now() - s);
    if (r.status !== 200) throw new Error(`GET ${path()}: HTTP ${r.status}`);
  }
  const total = (performance.now() - t0) / 1000;
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat), mean: lat.reduce((a, b) => a + b, 0) / lat.length, perSec: n / total };
}

function queryMix(): string[] {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const n = Math.floor(rnd() * SERVICES);
    const ns = `ns${n % NAMESPACES}`;
    const r = rnd();
    if (r < 0.7) lines.push(`svc${n}.${ns}.svc.cluster.local A`);
    else if (r < 0.8) lines.push(`_http._tcp.svc${n}.${ns}.svc.cluster.local SRV`);
    else if (r < 0.9) lines.push(`svc${n}.${ns}.svc.cluster.local AAAA`);
    else lines.push(`svc${n}.${ns}.svc.cluster.local.${ns}.svc.cluster.local A`);
  }
  return lines;
}

let server: BenchServer | undefined;
try {
  server = await startServiceBench(plan);
  const pid = server.proc.pid!;
  const c = server.client;

  // ---- load 10,000 Services (plus a small namespace to list) ----
  const t0 = performance.now();
  await pool(NAMESPACES, 8, (i) => c.create<Namespace>(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${i}` } } as Namespace));
  await c.create<Namespace>(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SMALL_NS } } as Namespace);
  await pool(SERVICES, 16, (i) => c.create(R.services, service(`ns${i % NAMESPACES}`, `svc${i}`)));
  for (let i = 0; i < SMALL_SERVICES; i++) await c.create(R.services, service(SMALL_NS, `s${i}`));
  const loadSec = (performance.now() - t0) / 1000;
  console.error(`loaded ${SERVICES} Services in ${loadSec.toFixed(1)} s; waiting for the server to settle`);
  const settleSec = await settle(pid);
  console.error(`settled after ${settleSec.toFixed(0)} s`);

  // ---- where DNS listens: only ever a local address (the pod bridge's gateway) ----
  const kubeDns = await c.get<Service>(R.services, 'kube-system', 'kube-dns');
  const [dnsAddr, dnsPortText] = (kubeDns.metadata.annotations?.[DNS_LISTEN_ANNOTATION] ?? '').split(':');
  const dnsPort = Number(dnsPortText);
  if (!dnsAddr || !(await isLocalAddress(dnsAddr))) throw new Error(`the DNS listen address ${dnsAddr} is not local: refusing to send load there`);
  const queries = queryMix();
  const probe = await runDnsLoad({ server: dnsAddr, port: dnsPort, queries, durationSec: 2, allowNonLoopback: true });
  if (probe.completed === 0) throw new Error('the DNS server does not answer');
  console.error(`dns check: ${probe.qps.toFixed(0)} qps, rcodes ${JSON.stringify(probe.rcodes)}`);

  const getPath = () => `/api/v1/namespaces/ns7/services/svc7`;
  const listPath = () => `/api/v1/namespaces/${SMALL_NS}/services`;
  type Row = { label: string; get: Series; list: Series; dns?: DnsLoadResult };
  const rows: Row[] = [];
  // warm-up (connections, caches)
  await timeSeries(server, 100, getPath);
  await timeSeries(server, 100, listPath);

  const measure = async (label: string, load?: { maxQps?: number }) => {
    if (!load) {
      const get = await timeSeries(server!, REQUESTS, getPath);
      const list = await timeSeries(server!, REQUESTS, listPath);
      rows.push({ label, get, list });
    } else {
      // dnsperf runs for a fixed time: long enough for both series (estimated from the unloaded run, x4).
      const base = rows[0];
      const est = (REQUESTS / base.get.perSec + REQUESTS / base.list.perSec) * 4 + 3;
      const durationSec = Math.max(10, Math.ceil(est));
      const dnsRun = runDnsLoad({ server: dnsAddr, port: dnsPort, queries, durationSec, allowNonLoopback: true, clients: 4, outstanding: 200, ...load });
      await new Promise((r) => setTimeout(r, 1000));
      const t = performance.now();
      const get = await timeSeries(server!, REQUESTS, getPath);
      const list = await timeSeries(server!, REQUESTS, listPath);
      const spent = (performance.now() - t) / 1000;
      const dns = await dnsRun;
      if (spent + 1 > durationSec) console.error(`warning: the API series took ${spent.toFixed(1)} s, longer than the ${durationSec} s of DNS load`);
      rows.push({ label, get, list, dns });
    }
    const r = rows[rows.length - 1];
    console.error(`${label}: GET p99 ${r.get.p99.toFixed(2)} ms, list p99 ${r.list.p99.toFixed(2)} ms${r.dns ? `, dns ${r.dns.qps.toFixed(0)} qps lost ${r.dns.lost}` : ''}`);
  };

  await measure('no DNS load');
  await measure('DNS load at 10,000 qps', { maxQps: 10_000 });
  await measure('DNS load saturating (dnsperf -q 200)', {});
  await measure('no DNS load, again');

  const f = (x: number) => x.toFixed(2);
  const out: string[] = [];
  out.push(`Server components running: ${running.join(', ')} (and the services component: allocators, Endpoints controller) with ${SERVICES.toLocaleString('en')} Services in ${NAMESPACES} namespaces, loaded through the API in ${loadSec.toFixed(1)} s (the server was idle again ${settleSec.toFixed(0)} s later). ${os.cpus().length} cores shared by the server, dnsperf and this client (nothing pinned); load average at the end ${os.loadavg()[0].toFixed(2)}.`);
  if (EXTRA_DISABLED.includes('controllers')) out.push('Without the controllers component (ReplicaSet, Deployment, garbage collector, namespace), which takes no part in Services or DNS.');
  out.push(`API: ${REQUESTS} sequential HTTPS requests per series on one keep-alive connection: GET one Service (\`${getPath()}\`) and list a namespace of ${SMALL_SERVICES} Services (\`${listPath()}\`). DNS: dnsperf against the server's listen address ${dnsAddr}:${dnsPort} (the kube-dns endpoint), 20,000 query lines: 70% Service A, 10% SRV, 10% AAAA (NODATA), 10% search-path NXDOMAIN.`);
  out.push('');
  out.push('| DNS load | DNS qps answered | DNS lost | GET p50 ms | GET p99 ms | GET max ms | list p50 ms | list p99 ms | list max ms |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    out.push(`| ${r.label} | ${r.dns ? r.dns.qps.toFixed(0) : '-'} | ${r.dns ? r.dns.lost : '-'} | ${f(r.get.p50)} | ${f(r.get.p99)} | ${f(r.get.max)} | ${f(r.list.p50)} | ${f(r.list.p99)} | ${f(r.list.max)} |`);
  }
  out.push('');
  out.push('dnsperf commands (query file in a temp dir):');
  out.push('');
  for (const r of rows) if (r.dns) out.push(`- ${r.label}: \`${r.dns.command.replace(/-d \S+/, '-d queries.txt')}\``);
  writeSection('dns-api-latency', 'API latency with and without a DNS flood (issue #5)', `npm run build && node --import tsx bench/dns-api-latency.ts ${REQUESTS}${EXTRA_DISABLED.length ? ` --disable ${EXTRA_DISABLED.join(',')}` : ''}`, out.join('\n'));
} finally {
  await finish(plan, server);
}
