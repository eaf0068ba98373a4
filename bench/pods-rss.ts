// Issue #3 (c): the server's resident memory with 100 running Pods (200 containers: a sandbox and an
// app each), all Ready, probed every 10 s, watched by the agent's informers and Docker's event stream.
// The whole control plane runs (agent, scheduler, controllers); RSS is sampled after things settle.
//   npm run build && node --import tsx bench/pods-rss.ts [pods=100]

import { R } from '../src/api/resources.js';
import { deployment, finish, fmt, podReady, startPodBench, whenPods } from './pods-common.js';
import { mib, rssBytes, writeSection } from './lib.js';

const PODS = Number(process.argv[2] ?? 100);
const SLOT = 52;
const server = await startPodBench(SLOT);

try {
  const pid = server.proc.pid!;
  await new Promise((r) => setTimeout(r, 3000));
  const rssEmpty = rssBytes(pid);
  const t0 = performance.now();
  await server.client.create(R.deployments, deployment('mem', PODS));
  const t1 = await whenPods(server, 'mem', (pods) => [...pods.values()].filter(podReady).length >= PODS, 600_000);
  const samples: number[] = [];
  // Ten probe periods: the steady state of a node running its Pods.
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 5000));
    samples.push(rssBytes(pid));
  }
  console.error('rss samples', samples.map(mib).join(', '));
  const last = samples[samples.length - 1];
  const peak = Math.max(...samples);
  const rows = [
    '| figure | value | target |',
    '|---|---|---|',
    `| server RSS, no Pods (agent, scheduler, controllers running) | ${mib(rssEmpty)} | — |`,
    `| **server RSS with ${PODS} running Pods**, after 50 s of steady state | **${mib(last)}** | < 120 MiB |`,
    `| highest sample in those 50 s | ${mib(peak)} | — |`,
    `| time for the ${PODS} Pods to be Ready | ${fmt(t1 - t0)} | — |`,
  ];
  const body = `${rows.join('\n')}\n\nOne Deployment of ${PODS} replicas of kubelite/echo:1 with an httpGet readiness probe (period 10 s), on a 2-core host. The server runs as \`bin/kubelite\` (Node with a 4 MiB semi-space).`;
  writeSection('pods-rss', `Server memory with ${PODS} running Pods (issue #3 c)`, 'npm run build && node --import tsx bench/pods-rss.ts', body);
} finally {
  await finish(server);
}
