// Issue #13's failover figure: two `kubelite server --store etcd://` processes on one local etcd; the
// leader is killed with SIGKILL and, in the same instant, a Deployment is scaled up through the other
// server; the time until the new leader's ReplicaSet controller has created the new Pod is the
// failover time (kill -9 -> first reconcile by the new leader). Measured with kubelite's defaults
// (3 s lease, 2 s renew deadline, 0.5 s retry) and, as the baseline in the same run, with client-go's
// (15 s / 10 s / 2 s). Agent and data plane are off: this times the control plane.
//   npm run build && node --import tsx bench/etcd-failover.ts

import fs from 'node:fs';
import { R } from '../src/api/resources.js';
import type { Deployment } from '../src/api/types.js';
import type { Lease } from '../src/leader/lease.js';
import { median, percentile, startBenchServer, writeSection, type BenchServer } from './lib.js';
import { startEtcd } from '../test/helpers/etcd.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BASELINE_ROUNDS = Number(process.env.BENCH_BASELINE_ROUNDS ?? 2);
const OFF = ['--disable', 'agent,proxy,dns,ingress'];

async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rounds(url: string, timing: string[], n: number, tag: string): Promise<number[]> {
  const args = (node: string) => [...OFF, '--store', url, '--node-name', node, ...timing];
  const dirs = [fs.mkdtempSync('/tmp/kubelite-bench-fo-a-'), fs.mkdtempSync('/tmp/kubelite-bench-fo-b-')];
  const servers: BenchServer[] = [];
  servers[0] = await startBenchServer(args(`${tag}-a`), { instance: 'b50', dataDir: dirs[0] });
  servers[1] = await startBenchServer(args(`${tag}-b`), { instance: 'b51', dataDir: dirs[1] });
  const out: number[] = [];
  try {
    const name = `web-${tag}`;
    let replicas = 1;
    const d: Deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'kubelite/echo:1' }] } } } } as Deployment;
    await servers[0].client.create(R.deployments, d);
    const pods = (s: BenchServer) => s.client.list(R.pods, { namespace: 'default', labelSelector: `app=${name}` }).then((l) => l.items.length);
    await until(async () => (await pods(servers[0]!)) === replicas, 30_000, 'the first Pod');
    for (let i = 0; i < n; i++) {
      const holder = await until(async () => (await servers[0]!.client.get<Lease>(R.leases, 'kube-system', 'kubelite-leader').catch(() => servers[1]!.client.get<Lease>(R.leases, 'kube-system', 'kubelite-leader'))).spec?.holderIdentity, 30_000, 'a leader');
      const v = holder.startsWith(`${tag}-a_`) ? 0 : 1;
      const victim = servers[v]!;
      const survivor = servers[1 - v]!;
      replicas++;
      const t0 = performance.now();
      victim.proc.kill('SIGKILL');
      await survivor.client.patch(R.deployments, 'default', name, 'merge', { spec: { replicas } }, { subresource: 'scale' });
      await until(async () => (await pods(survivor)) >= replicas, 60_000, 'the new leader to reconcile');
      out.push(performance.now() - t0);
      if (victim.proc.exitCode === null && victim.proc.signalCode === null) await new Promise((r) => victim.proc.once('exit', r));
      victim.client.close();
      servers[v] = await startBenchServer(args(`${tag}-${v ? 'b' : 'a'}`), { instance: v ? 'b51' : 'b50', dataDir: dirs[v] });
    }
  } finally {
    for (const s of servers) await s?.stop().catch(() => undefined);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
  return out;
}

const etcd = await startEtcd();
let ours: number[];
let clientGo: number[];
try {
  ours = await rounds(etcd.url, [], ROUNDS, 'kl');
  clientGo = await rounds(etcd.url, ['--leader-elect-lease-duration', '15', '--leader-elect-renew-deadline', '10', '--leader-elect-retry-period', '2'], BASELINE_ROUNDS, 'cg');
} finally {
  await etcd.stop();
}
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rows = [
  '| leader election timings | rounds | median | p90 | max | target |',
  '|---|---|---|---|---|---|',
  `| **kubelite defaults** (lease 3 s, renew deadline 2 s, retry 0.5 s) | ${ours.length} | **${s(median(ours))}** | ${s(percentile(ours, 90))} | ${s(Math.max(...ours))} | < 5 s: ${Math.max(...ours) < 5000 ? 'met' : 'missed'} |`,
  `| baseline: client-go's defaults (15 s / 10 s / 2 s), same run | ${clientGo.length} | ${s(median(clientGo))} (${(median(clientGo) / median(ours)).toFixed(1)}x ours) | ${s(percentile(clientGo, 90))} | ${s(Math.max(...clientGo))} | — |`,
];
const notes = `Each round: SIGKILL of the server holding the \`kube-system/kubelite-leader\` Lease and, at once, \`scale\` of a Deployment through the other server; the time is until the new leader's ReplicaSet controller has created the extra Pod (first reconcile by the new leader; includes starting its controllers and informers). The killed server is restarted between rounds. A follower takes over once the Lease has not changed for a lease duration by its own clock (it never compares the other server's timestamps), so the time is about one lease duration plus up to one retry period. Two servers and one etcd member on the same 2 cores; the 1-minute load average was ${(await import('node:os')).loadavg()[0]!.toFixed(1)} at the end.`;
writeSection('etcd-failover', 'Leader failover: kill -9 of the leader -> first reconcile by the new one (issue #13)', 'npm run build && node --import tsx bench/etcd-failover.ts', `${rows.join('\n')}\n\n${notes}`);
