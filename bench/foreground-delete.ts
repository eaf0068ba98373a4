// Issue 17 #4(b): `kubectl delete deployment --cascade=foreground` — the Deployment waits for its
// ReplicaSet, which waits for its Pods. Measured on Pods that really run (agent, scheduler and
// controllers on the local Docker engine): the time from the DELETE to the Deployment gone, against the
// time the Pods themselves take to stop (the grace period they use), which is the floor.
// Target: that floor plus < 1 s (it took 36-66 s when each level waited for the collector's 30 s pass).
//   npm run build && node --import tsx bench/foreground-delete.ts [replicas=3] [--before DIR]

import { R } from '../src/api/resources.js';
import type { Deployment } from '../src/api/types.js';
import { isStatusError } from '../src/api/errors.js';
import { ROOT, startBenchServer, writeSection } from './lib.js';
import { benchPlan, podReady, whenPods, wipeInstance } from './pods-common.js';

const args = process.argv.slice(2);
const beforeAt = args.indexOf('--before');
const BEFORE = beforeAt >= 0 ? args.splice(beforeAt, 2)[1] : undefined;
const REPLICAS = Number(args[0] ?? 3);
const SLOT = 54;

function deployment(name: string): Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        // Stops at once on SIGTERM: the Pods' own share of the deletion is the container stop.
        spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'app', image: 'kubelite/echo:1', command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.1; done"] }] },
      },
    },
  };
}

async function gone(get: () => Promise<unknown>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    try {
      await get();
    } catch (err) {
      if (isStatusError(err, 'NotFound')) return performance.now();
      throw err;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return NaN;
}

async function measure(root: string): Promise<{ foregroundMs: number; podStopMs: number }> {
  const plan = benchPlan(SLOT);
  await wipeInstance(plan.instance);
  const s = await startBenchServer(plan.args, { instance: plan.instance, root });
  try {
    // The floor: how long the Pods of this template take to stop when deleted directly.
    await s.client.create(R.deployments, deployment('floor'));
    await whenPods(s, 'floor', (pods) => [...pods.values()].filter(podReady).length >= REPLICAS, 120_000);
    const floorPods = (await s.client.list(R.pods, { namespace: 'default', labelSelector: 'app=floor' })).items;
    await s.client.delete(R.deployments, 'default', 'floor', { propagationPolicy: 'Orphan' });
    const rsList = (await s.client.list(R.replicasets, { namespace: 'default' })).items;
    for (const rs of rsList) await s.client.delete(R.replicasets, 'default', rs.metadata.name!, { propagationPolicy: 'Orphan' }).catch(() => undefined);
    const p0 = performance.now();
    await Promise.all(floorPods.map((p) => s.client.delete(R.pods, 'default', p.metadata.name!)));
    const p1 = Math.max(...(await Promise.all(floorPods.map((p) => gone(() => s.client.get(R.pods, 'default', p.metadata.name!), 120_000)))));

    await s.client.create(R.deployments, deployment('fg'));
    await whenPods(s, 'fg', (pods) => [...pods.values()].filter(podReady).length >= REPLICAS, 120_000);
    const t0 = performance.now();
    await s.client.delete(R.deployments, 'default', 'fg', { propagationPolicy: 'Foreground' });
    const t1 = await gone(() => s.client.get(R.deployments, 'default', 'fg'), 180_000);
    return { foregroundMs: t1 - t0, podStopMs: p1 - p0 };
  } finally {
    await s.stop();
    await wipeInstance(plan.instance);
  }
}

const fmt = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'over 180 s');
const rows: string[] = [];
if (BEFORE) {
  const b = await measure(BEFORE);
  console.error('before', b);
  rows.push(`| before (main at the start of issue 17) | ${fmt(b.podStopMs)} | ${fmt(b.foregroundMs)} | ${fmt(b.foregroundMs - b.podStopMs)} |`);
}
const a = await measure(ROOT);
console.error('after', a);
rows.push(`| after | ${fmt(a.podStopMs)} | ${fmt(a.foregroundMs)} | **${fmt(a.foregroundMs - a.podStopMs)}** |`);
writeSection(
  'foreground-delete',
  `Foreground deletion of a Deployment of ${REPLICAS} running Pods (issue 17 #4 b)`,
  `npm run build && node --import tsx bench/foreground-delete.ts ${REPLICAS}${BEFORE ? ' --before <checkout of the earlier build>' : ''}`,
  `| build | Pods deleted directly: all gone (the floor) | DELETE propagationPolicy=Foreground: Deployment gone | over the floor (target < 1 s) |\n|---|---|---|---|\n${rows.join('\n')}\n\nkubelite/echo:1 Pods that exit on SIGTERM (terminationGracePeriodSeconds 5); the server runs as \`bin/kubelite\` with agent, scheduler and controllers (proxy, DNS, ingress off), its periodic resync at the default 30 s.`,
);
