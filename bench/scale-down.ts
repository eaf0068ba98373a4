// Issue 17 #8: scaling a Deployment of thousands of Pods down to 0. The controllers run (no agent and
// no scheduler, so the Pods stay Pending and each deletion is the API's and the controllers' work
// alone, as with the ~24,000 unschedulable Pods of the issue's `replicas: 1e12`), and the time from
// the scale to the last Pod gone is measured, with the time to create them as the baseline of the run.
//   npm run build && node --import tsx bench/scale-down.ts [pods=3000] [--before DIR]

import { R } from '../src/api/resources.js';
import type { Deployment } from '../src/api/types.js';
import { ROOT, startBenchServer, writeSection, type BenchServer } from './lib.js';
import { deployment } from './pods-common.js';

const args = process.argv.slice(2);
const beforeAt = args.indexOf('--before');
const BEFORE = beforeAt >= 0 ? args.splice(beforeAt, 2)[1] : undefined;
const PODS = Number(args[0] ?? 3000);
const SLOT = 54;

async function podCount(s: BenchServer): Promise<number> {
  return (await s.client.list(R.pods, { namespace: 'default' })).items.length;
}

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await fn()) return performance.now();
    await new Promise((r) => setTimeout(r, 100));
  }
  return NaN;
}

async function measure(root: string): Promise<{ upMs: number; downMs: number; events: number }> {
  const s = await startBenchServer(['--disable', 'agent,scheduler,proxy,dns,ingress', '--pod-cidr', `10.200.${SLOT}.0/24`, '--service-cidr', `10.201.${SLOT}.0/24`, '--cluster-dns', `10.201.${SLOT}.10`], { instance: `b${SLOT}`, root });
  try {
    const t0 = performance.now();
    await s.client.create<Deployment>(R.deployments, deployment('many', PODS, false));
    const t1 = await until(async () => (await podCount(s)) >= PODS, 600_000);
    const t2 = performance.now();
    await s.client.patch(R.deployments, 'default', 'many', 'merge', { spec: { replicas: 0 } }, {});
    const t3 = await until(async () => (await podCount(s)) === 0, 600_000);
    const events = (await s.client.list(R.events, { namespace: 'default' })).items.length;
    return { upMs: t1 - t0, downMs: t3 - t2, events };
  } finally {
    await s.stop();
  }
}

const fmt = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'did not finish in 10 min');
const rows: string[] = [];
let before: { downMs: number } | undefined;
if (BEFORE) {
  const b = await measure(BEFORE);
  before = b;
  console.error('before', b);
  rows.push(`| before (main at the start of issue 17) | ${fmt(b.upMs)} | ${fmt(b.downMs)} | ${(PODS / (b.downMs / 1000)).toFixed(0)} | ${b.events} |`);
}
const a = await measure(ROOT);
console.error('after', a);
rows.push(`| after | ${fmt(a.upMs)} | ${fmt(a.downMs)} | ${(PODS / (a.downMs / 1000)).toFixed(0)} | ${a.events} |`);
writeSection(
  'scale-down',
  `Scaling ${PODS} Pending Pods down to 0 (issue 17 #8)`,
  `npm run build && node --import tsx bench/scale-down.ts ${PODS}${BEFORE ? ' --before <checkout of the earlier build>' : ''}`,
  `| build | ${PODS} Pods created | scaled to 0: last Pod gone | Pods deleted per second | Events left in the namespace |\n|---|---|---|---|---|\n${rows.join('\n')}${before ? `\n\nScale-down after/before: **${(a.downMs / before.downMs).toFixed(2)}×** the time.` : ''}\n\nOne Deployment (no probes) scaled from ${PODS} to 0 with a merge patch; the server runs as \`bin/kubelite\` with its controllers and no agent or scheduler, so every Pod is Pending and is deleted at once (the API's and the ReplicaSet controller's work alone). Run while other helpers' tests used the machine. The change: the ReplicaSet controller issues one sync's deletions (up to burstReplicas, 500) together, as Kubernetes does, instead of 16 at a time; the store commits them in groups.`,
);
