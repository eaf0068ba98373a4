// The agent's stats pass against a fake engine that, like Docker 20.10, answers one-shot stats only at
// its next collection tick: the pass keeps many requests in flight (so 100 containers take a couple of
// ticks, not 25), skips sandboxes and stopped containers, makes rates from the second reading on, and
// reports a summary for the node.

import test from 'ava';
import { StatsCollector } from '../../../src/agent/stats-collector.js';
import type { DockerRuntime } from '../../../src/agent/docker.js';
import type { RuntimeCache } from '../../../src/agent/runtime-cache.js';
import type { ApiClient } from '../../../src/client/types.js';
import { createLogger } from '../../../src/util/log.js';

interface Fake {
  id: string;
  role: 'app' | 'infra';
  state: 'running' | 'exited';
  podNamespace: string;
  podName: string;
  podUid: string;
  containerName: string;
}

function setup(n: number) {
  const containers: Fake[] = [];
  for (let i = 0; i < n; i++) {
    containers.push({ id: `app${i}`, role: 'app', state: 'running', podNamespace: 'default', podName: `p${i}`, podUid: `u${i}`, containerName: 'app' });
    containers.push({ id: `infra${i}`, role: 'infra', state: 'running', podNamespace: 'default', podName: `p${i}`, podUid: `u${i}`, containerName: 'POD' });
  }
  containers.push({ id: 'stopped', role: 'app', state: 'exited', podNamespace: 'default', podName: 'old', podUid: 'u-old', containerName: 'app' });
  let tick = 0;
  let waiting: (() => void)[] = [];
  let maxInFlight = 0;
  const asked: string[] = [];
  const cpuNs = new Map<string, number>();
  const runtime = {
    statsOnce(id: string) {
      asked.push(id);
      return new Promise<Record<string, unknown>>((resolve) => {
        waiting.push(() => {
          const cpu = (cpuNs.get(id) ?? 0) + 50_000_000; // 50 ms of CPU per tick
          cpuNs.set(id, cpu);
          resolve({ read: new Date(Date.parse('2024-06-01T12:00:00Z') + tick * 1000).toISOString(), cpu_stats: { cpu_usage: { total_usage: cpu } }, memory_stats: { usage: 4096, stats: { inactive_file: 1024 } } });
        });
        maxInFlight = Math.max(maxInFlight, waiting.length);
      });
    },
  } as unknown as DockerRuntime;
  /** The engine's collection tick: every request in flight is answered. */
  const fire = () => {
    tick++;
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const cache = { all: () => containers } as unknown as RuntimeCache;
  const reports: unknown[] = [];
  const client = { createSubresource: async (_r: unknown, _ns: unknown, _name: string, _sub: string, body: unknown) => (reports.push(body), body) } as unknown as ApiClient;
  const proc = { stat: 'cpu  100 0 100 1000 0 0 0 0\n', meminfo: 'MemTotal: 4000 kB\nMemAvailable: 1000 kB\n' };
  return { runtime, cache, client, fire, asked, reports, proc, inFlight: () => waiting.length, maxInFlight: () => maxInFlight };
}

async function runPass(collector: StatsCollector, f: ReturnType<typeof setup>): Promise<{ ticks: number; summary: Awaited<ReturnType<StatsCollector['collect']>> }> {
  const done = collector.collect();
  let ticks = 0;
  let result: Awaited<ReturnType<StatsCollector['collect']>> | undefined;
  let finished = false;
  void done.then((r) => {
    result = r;
    finished = true;
  });
  while (!finished) {
    await new Promise((r) => setImmediate(r));
    if (f.inFlight() > 0) {
      f.fire();
      ticks++;
    }
  }
  return { ticks, summary: result };
}

test('100 app containers in two engine ticks: many requests in flight, sandboxes and stopped containers skipped', async (t) => {
  const f = setup(100);
  const dir = await import('node:fs/promises').then(async (fs) => {
    const d = await fs.mkdtemp('/tmp/kl-stats-');
    await fs.writeFile(`${d}/stat`, f.proc.stat);
    await fs.writeFile(`${d}/meminfo`, f.proc.meminfo);
    return d;
  });
  t.teardown(() => import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true })));
  const collector = new StatsCollector({ client: f.client, runtime: f.runtime, cache: f.cache, nodeName: () => 'vm', logger: createLogger('error'), procDir: dir });
  const first = await runPass(collector, f);
  t.is(first.ticks, 2, 'ceil(100 / 64) ticks');
  t.is(f.maxInFlight(), 64);
  t.is(new Set(f.asked).size, 100);
  t.false(f.asked.some((id) => id.startsWith('infra') || id === 'stopped'));
  // No previous reading: no rates yet, and no node rate either.
  t.is(first.summary, undefined);

  const second = await runPass(collector, f);
  const s = second.summary!;
  t.is(s.pods.length, 100);
  const c = s.pods.find((p) => p.podRef.name === 'p0')!.containers[0];
  t.is(c.workingSetBytes, 3072);
  t.true(c.usageNanoCores > 0);
  t.is(s.node.workingSetBytes, 3000 * 1024);
});
