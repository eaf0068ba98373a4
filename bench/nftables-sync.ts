// The sync half of bench/nftables.ts, run by it inside a network namespace made for the run (so 10,000
// Services never slow down the host's own netfilter, and deleting the namespace removes every rule even
// if the run dies half-way). For each mode, nftables then iptables: the first (full) sync of 1k/5k/10k
// ClusterIP Services of 3 endpoints, one changed endpoint at the largest size, the periodic resync, the
// cleanup, and new-connection latency through the VIP of the first and of the last Service. Prints one
// JSON line (SyncReport) on stdout.
// Endpoints are unreachable addresses in the pod CIDR, except those of the first and last Services,
// which point at a listener on the namespace's own bridge address.

import net from 'node:net';
import type { Endpoints, Service } from '../src/api/types.js';
import { hostNames } from '../src/config.js';
import { cleanupNetfilter } from '../src/netfilter/cleanup.js';
import { nftTableName } from '../src/netfilter/nft-names.js';
import { execOk } from '../src/util/exec.js';
import { hostTools, Proxier, type NetfilterHost, type ProxyMode } from '../src/netfilter/proxier.js';

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
}

export interface SyncRow {
  mode: ProxyMode;
  n: number;
  rules: number;
  firstSync: number;
  /** Of the first sync: the time in nft -f / iptables-restore. */
  firstApply: number;
  cleanup: number;
  /** Largest size only. */
  partial?: number;
  partialOwn?: number;
  /** nftables: one `nft -f` of a single set element against this table (nft's own floor per transaction). */
  nftFloor?: number;
  resyncReadBack?: number;
  resyncCheap?: number;
}

export interface SyncReport {
  tools: string[];
  rows: SyncRow[];
  latency: Partial<Record<ProxyMode, { first: Latency; last: Latency; direct: Latency }>>;
  baseline: Latency;
  connects: number;
}

const names = hostNames({ instance: 'b49' });
const POD_CIDR = '10.231.0.0/16';
const SERVICE_CIDR = '10.232.0.0/16';
const BRIDGE = 'klb49br';
const LISTEN_IP = '10.231.0.1';
const LISTEN_PORT = 18080;
const PARTIAL_RUNS = 7;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const svcName = (i: number) => `svc-${String(i).padStart(5, '0')}`;
const vip = (i: number) => `10.232.${i >> 8}.${i & 255}`;
function endpointIPs(i: number, local: boolean, change = 0): string[] {
  if (local) return [LISTEN_IP];
  return [0, 1, 2].map((e) => {
    if (e === 2 && change > 0) return `10.231.255.${change}`;
    const k = 256 + i * 3 + e;
    return `10.231.${(k >> 8) & 255}.${k & 255}`;
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

/** Connects to each target in turn, round after round, so load from elsewhere hits all of them alike. */
async function latencies(targets: [string, number][], connects: number): Promise<Latency[]> {
  for (let i = 0; i < 100; i++) for (const [h, p] of targets) await connectOnce(h, p); // warm-up
  const xs: number[][] = targets.map(() => []);
  for (let i = 0; i < connects; i++) for (let k = 0; k < targets.length; k++) xs[k].push(await connectOnce(...targets[k]));
  return xs.map((x) => ({ p50: median(x), p90: pct(x, 0.9), p99: pct(x, 0.99) }));
}

export async function runSync(sizes: number[], connects: number): Promise<SyncReport> {
  await execOk('ip', ['link', 'set', 'lo', 'up']);
  await execOk('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await execOk('ip', ['addr', 'add', `${LISTEN_IP}/16`, 'dev', BRIDGE]);
  await execOk('ip', ['link', 'set', BRIDGE, 'up']);
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(LISTEN_PORT, LISTEN_IP, resolve));
  const { nftBinary } = await import('../src/netfilter/nft.js');
  const tools = [(await execOk(nftBinary(), ['--version'])).stdout.trim(), (await execOk('iptables', ['--version'])).stdout.trim()];
  const [baseline] = await latencies([[LISTEN_IP, LISTEN_PORT]], connects);
  const report: SyncReport = { tools, rows: [], latency: {}, baseline, connects };
  const max = Math.max(...sizes);
  for (const mode of ['nftables', 'iptables'] as ProxyMode[]) {
    for (const n of sizes) {
      await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR });
      const services = Array.from({ length: n }, (_, i) => service(i));
      const eps = Array.from({ length: n }, (_, i) => endpoints(i, n));
      // The host tools, timed: how much of a sync is nft -f / iptables-restore.
      let applyMs = 0;
      const timed = <A extends unknown[]>(f: (...a: A) => Promise<void>) => async (...a: A) => {
        const t0 = performance.now();
        try {
          await f(...a);
        } finally {
          applyMs += performance.now() - t0;
        }
      };
      const host: NetfilterHost = { ...hostTools, restore: timed(hostTools.restore), nftApply: timed(hostTools.nftApply!) };
      const proxier = new Proxier({ mode, names, podCIDR: POD_CIDR, serviceCIDR: SERVICE_CIDR, nodeIPs: [], resyncSchedule: '0 0 1 1 *', host });
      proxier.setServices(services);
      proxier.setEndpoints(eps);
      const first = await proxier.start();
      if (!first.ok) throw first.error;
      const row: SyncRow = { mode, n, rules: first.rulesWritten, firstSync: first.durationMs, firstApply: applyMs, cleanup: 0 };
      if (mode === 'nftables') {
        // The floor under any change: one element added or deleted, as its own transaction (nft lists
        // the table's objects into its cache before it sends anything).
        const el = `ip ${nftTableName(names)} hairpin { 10.231.255.250 . 10.231.255.250 }`;
        const floors: number[] = [];
        for (let k = 0; k < 8; k++) {
          const t0 = performance.now();
          await hostTools.nftApply!(`${k % 2 ? 'delete' : 'add'} element ${el}\n`);
          floors.push(performance.now() - t0);
        }
        row.nftFloor = median(floors);
      }
      if (n === max) {
        const partials: number[] = [];
        const mid = Math.floor(n / 2);
        for (let k = 1; k <= PARTIAL_RUNS; k++) {
          proxier.upsertEndpoints(endpoints(mid, n, k));
          const r = await proxier.waitForSync();
          if (!r.ok) throw r.error;
          const expected = mode === 'nftables' ? r.chainsWritten === 1 && r.chainsDeleted === 0 && !r.fullRender : r.chainsWritten === 2 && r.chainsDeleted === 1;
          if (!expected) throw new Error(`unexpected partial sync: ${JSON.stringify(r)}`);
          partials.push(r.durationMs);
        }
        row.partial = median(partials);
        // Our own share of a partial sync (model, render, diff), measured with a sync that has nothing to write.
        row.partialOwn = (await proxier.waitForSync()).durationMs;
        // nftables: the first full resync reads the whole table back; the next ones within its cost budget
        // only list the chains. iptables reads both tables back every time.
        const r1 = await proxier.fullResync();
        const r2 = await proxier.fullResync();
        if (!r1.ok || !r2.ok || r1.chainsWritten || r2.chainsWritten) throw new Error(`a resync after partial syncs rewrote something: ${JSON.stringify([r1, r2])}`);
        row.resyncReadBack = r1.durationMs;
        row.resyncCheap = r2.durationMs;
        const [f, l, d] = await latencies(
          [
            [vip(0), 80],
            [vip(n - 1), 80],
            [LISTEN_IP, LISTEN_PORT],
          ],
          connects,
        );
        report.latency[mode] = { first: f, last: l, direct: d };
      }
      await proxier.stop();
      const c0 = performance.now();
      await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR });
      row.cleanup = performance.now() - c0;
      report.rows.push(row);
      process.stderr.write(`${mode}: ${n} services done\n`);
    }
  }
  server.close();
  return report;
}
