// Service data plane benchmark, on real iptables (iptables-nft 1.8.9 here) inside a network namespace
// made for the run, so 40,000 chains never slow down the host's own iptables (Docker, other tests) and
// deleting the namespace removes every rule even if the run dies half-way.
//   (b) sync time with 1,000 / 5,000 / 10,000 ClusterIP Services of 3 endpoints: the first (full) sync,
//       one changed endpoint (partial sync), and an equivalent full kube-proxy-style iptables-restore of
//       the whole ruleset in the same run; plus the periodic full resync (iptables-save read-back) and
//       cleanup.
//   (f) new-connection latency through the VIP of the first and of the last of 10,000 Services (the
//       dispatch chain is walked linearly), against a direct connection without any DNAT.
// Endpoints are unreachable addresses in the test pod CIDR, except those of the first and last Services,
// which point at a listener on the namespace's own bridge address.
//   node --import tsx bench/netfilter-sync.ts [sizes=1000,5000,10000] [connects=2000]

import { spawn } from 'node:child_process';
import net from 'node:net';
import type { Endpoints, Service } from '../src/api/types.js';
import { hostNames } from '../src/config.js';
import { cleanupNetfilter } from '../src/netfilter/cleanup.js';
import { exec, execOk } from '../src/util/exec.js';
import { iptablesRestore } from '../src/netfilter/iptables.js';
import { buildProxyModel } from '../src/netfilter/model.js';
import { Proxier } from '../src/netfilter/proxier.js';
import { renderRules } from '../src/netfilter/render.js';
import { writeSection } from './lib.js';

const NETNS = 'klbench-nf';
const SIZES = (process.argv[2] ?? '1000,5000,10000').split(',').map(Number);
const CONNECTS = Number(process.argv[3] ?? 2000);
const names = hostNames({ instance: 'bench' });
const POD_CIDR = '10.251.0.0/16';
const SERVICE_CIDR = '10.252.0.0/16';
const BRIDGE = 'klbench0';
const LISTEN_IP = '10.251.0.1';
const LISTEN_PORT = 18080;
const PARTIAL_RUNS = 7;

// ---------- outside: make the namespace, run this file inside it, always delete it ----------

if (!process.env.KL_BENCH_IN_NETNS) {
  if (process.getuid?.() !== 0) throw new Error('run as root (iptables, ip netns)');
  await exec('ip', ['netns', 'del', NETNS]);
  await execOk('ip', ['netns', 'add', NETNS]);
  let code = 1;
  try {
    const child = spawn('ip', ['netns', 'exec', NETNS, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, KL_BENCH_IN_NETNS: '1' },
    });
    code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  } finally {
    await exec('ip', ['netns', 'del', NETNS]);
  }
  process.exit(code);
}

// ---------- inside the namespace ----------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);
const us = (x: number) => `${x.toFixed(0)} µs`;

const svcName = (i: number) => `svc-${String(i).padStart(5, '0')}`;
const vip = (i: number) => `10.252.${i >> 8}.${i & 255}`;
/** 3 fake endpoints per Service from 10.251.1.0 up; `local` Services point at the listener instead; `change` replaces the third. */
function endpointIPs(i: number, local: boolean, change = 0): string[] {
  if (local) return [LISTEN_IP];
  return [0, 1, 2].map((e) => {
    if (e === 2 && change > 0) return `10.251.255.${change}`;
    const n = 256 + i * 3 + e;
    return `10.251.${(n >> 8) & 255}.${n & 255}`;
  });
}

function service(i: number): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'bench', name: svcName(i) }, spec: { clusterIP: vip(i), ports: [{ name: 'http', port: 80 }] } };
}
function endpoints(i: number, n: number, change = 0): Endpoints {
  const local = i === 0 || i === n - 1;
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: 'bench', name: svcName(i) },
    subsets: [{ addresses: endpointIPs(i, local, change).map((ip) => ({ ip })), ports: [{ name: 'http', port: local ? LISTEN_PORT : 8080 }] }],
  };
}

async function connectOnce(host: string, port: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
  return Number(process.hrtime.bigint() - t0) / 1000;
}

type Latency = { p50: number; p90: number; p99: number };

/** Connects to each target in turn, round after round, so load from elsewhere hits all of them alike. */
async function latencies(targets: [string, number][]): Promise<Latency[]> {
  for (let i = 0; i < 100; i++) for (const [h, p] of targets) await connectOnce(h, p); // warm-up
  const xs: number[][] = targets.map(() => []);
  for (let i = 0; i < CONNECTS; i++) for (let k = 0; k < targets.length; k++) xs[k].push(await connectOnce(...targets[k]));
  return xs.map((x) => ({ p50: median(x), p90: pct(x, 0.9), p99: pct(x, 0.99) }));
}

await execOk('ip', ['link', 'set', 'lo', 'up']);
await execOk('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
await execOk('ip', ['addr', 'add', `${LISTEN_IP}/16`, 'dev', BRIDGE]);
await execOk('ip', ['link', 'set', BRIDGE, 'up']);
const server = net.createServer((s) => s.destroy());
await new Promise<void>((resolve) => server.listen(LISTEN_PORT, LISTEN_IP, resolve));
const iptVersion = (await execOk('iptables', ['--version'])).stdout.trim();
// Before any rule exists: what a new connection costs without netfilter NAT work.
const [baseline] = await latencies([[LISTEN_IP, LISTEN_PORT]]);

interface Row {
  n: number;
  rules: number;
  renderFull: number;
  firstSync: number;
  partial: number;
  partialRender: number;
  floor: number;
  kubeProxyFull: number;
  resync: number;
  cleanup: number;
}
const rows: Row[] = [];
let lat: { first: Latency; last: Latency; direct: Latency } | undefined;

for (const n of SIZES) {
  await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR });
  const services = Array.from({ length: n }, (_, i) => service(i));
  const eps = Array.from({ length: n }, (_, i) => endpoints(i, n));

  // The pure part alone: model + render of everything, without any cache.
  const r0 = performance.now();
  const rendered = renderRules(buildProxyModel(services, eps, { serviceCIDR: SERVICE_CIDR }), { names, podCIDR: POD_CIDR, serviceCIDR: SERVICE_CIDR, nodeIPs: [] });
  const renderFull = performance.now() - r0;

  const proxier = new Proxier({ names, podCIDR: POD_CIDR, serviceCIDR: SERVICE_CIDR, nodeIPs: [], resyncSchedule: '0 0 1 1 *' });
  proxier.setServices(services);
  proxier.setEndpoints(eps);
  const first = await proxier.start();
  if (!first.ok) throw first.error;

  // One endpoint of one Service in the middle changes, several times.
  const partials: number[] = [];
  const mid = Math.floor(n / 2);
  for (let k = 1; k <= PARTIAL_RUNS; k++) {
    proxier.upsertEndpoints(endpoints(mid, n, k));
    const r = await proxier.waitForSync();
    if (!r.ok) throw r.error;
    if (r.chainsWritten !== 2 || r.chainsDeleted !== 1) throw new Error(`unexpected partial sync: ${JSON.stringify(r)}`);
    partials.push(r.durationMs);
  }
  // How much of a partial sync is our own code (model + render + diff), measured with a no-op sync.
  const noop = await proxier.waitForSync();

  const resync = await proxier.fullResync();
  if (!resync.ok || resync.chainsWritten !== 0) throw new Error(`resync after partial syncs rewrote ${resync.chainsWritten} chains`);

  // The floor under any commit to this nat table: one new chain with one rule (not ours: a probe).
  const floors: number[] = [];
  for (let k = 0; k < 5; k++) {
    const f0 = performance.now();
    await iptablesRestore(`*nat\n:KLBENCH-PROBE - [0:0]\n-A KLBENCH-PROBE -j RETURN\nCOMMIT\n`);
    floors.push(performance.now() - f0);
    await iptablesRestore(`*nat\n:KLBENCH-PROBE - [0:0]\n-X KLBENCH-PROBE\nCOMMIT\n`);
  }

  if (n === Math.max(...SIZES)) {
    const [first, last, direct] = await latencies([
      [vip(0), 80],
      [vip(n - 1), 80],
      [LISTEN_IP, LISTEN_PORT],
    ]);
    lat = { first, last, direct };
  }
  await proxier.stop();

  // kube-proxy-style full sync of the same ruleset: every chain declared and rewritten in one restore.
  const k0 = performance.now();
  await iptablesRestore(rendered.toRestore());
  const kubeProxyFull = performance.now() - k0;

  const c0 = performance.now();
  await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR });
  const cleanup = performance.now() - c0;

  rows.push({
    n,
    rules: rendered.ruleCount,
    renderFull,
    firstSync: first.durationMs,
    partial: median(partials),
    partialRender: noop.durationMs,
    floor: median(floors),
    kubeProxyFull,
    resync: resync.durationMs,
    cleanup,
  });
  console.error(`${n} services done`);
}
server.close();

const cmd = `node --import tsx bench/netfilter-sync.ts ${SIZES.join(',')} ${CONNECTS}`;
const out: string[] = [];
out.push(`${iptVersion}, kernel ${(await execOk('uname', ['-r'])).stdout.trim()}, run in a dedicated network namespace. Targets: one change at 10,000 Services < 50 ms (b); (f) is reported, the case for the nftables backend.`, '');
out.push('(b) Sync time, ClusterIP Services with 3 endpoints each (one changed endpoint = median of ' + PARTIAL_RUNS + ' syncs):', '');
out.push('| Services | rules | render all (pure) | first sync (full) | **one changed endpoint** | of which render+diff | any 1-rule commit (floor) | kube-proxy-style full restore | full resync (read-back) | cleanup |');
out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  out.push(`| ${r.n.toLocaleString('en')} | ${r.rules.toLocaleString('en')} | ${ms(r.renderFull)} | ${ms(r.firstSync)} | **${ms(r.partial)}** | ${ms(r.partialRender)} | ${ms(r.floor)} | ${ms(r.kubeProxyFull)} | ${ms(r.resync)} | ${ms(r.cleanup)} |`);
}
out.push(
  '',
  'One changed endpoint = one atomic iptables-restore rewriting the SVC chain, adding one SEP chain and deleting one. ' +
    '"render+diff" is our own share (a sync with nothing to write). "any 1-rule commit" is the floor under every commit to the ' +
    'nat table, ours or Docker\'s: with the PREROUTING and OUTPUT jumps in place, nf_tables re-validates every chain reachable ' +
    'from each hooked base chain on each commit, so it grows with the ruleset. "first sync" slices the input ' +
    '(toRestoreBatches) because iptables-nft 1.8.9 spends time quadratic in the chains named by one input; the ' +
    'kube-proxy-style column is the same ruleset as one input.',
);
if (lat) {
  const n = Math.max(...SIZES);
  out.push('', `(f) New-connection latency (TCP connect from the host, ${CONNECTS} connections to each target, interleaved, after 100 warm-up rounds):`, '');
  out.push('| target | p50 | p90 | p99 |', '|---|---:|---:|---:|');
  out.push(`| VIP of the first of ${n.toLocaleString('en')} Services | ${us(lat.first.p50)} | ${us(lat.first.p90)} | ${us(lat.first.p99)} |`);
  out.push(`| VIP of the last of ${n.toLocaleString('en')} Services | ${us(lat.last.p50)} | ${us(lat.last.p90)} | ${us(lat.last.p99)} |`);
  out.push(`| the listener directly, no Service matches (walks the whole chain) | ${us(lat.direct.p50)} | ${us(lat.direct.p90)} | ${us(lat.direct.p99)} |`);
  out.push(`| the listener directly, before any rule existed (not interleaved) | ${us(baseline.p50)} | ${us(baseline.p90)} | ${us(baseline.p99)} |`);
}
writeSection('netfilter-sync', 'Service data plane: iptables sync time and per-connection cost (issue #4, benches b and f)', cmd, out.join('\n'));
