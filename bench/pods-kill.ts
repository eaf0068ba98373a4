// Issue #3 (b): `docker kill` of one replica's app container until its replacement is Ready again
// (new container id, readiness probe passed, status written), seen through a watch of the API.
// Every kill hits a different replica: a second crash of the same container would (rightly) wait in
// the kubelet's 10 s back-off. The sandbox keeps the Pod's IP, which the bench checks.
//   npm run build && node --import tsx bench/pods-kill.ts [kills=15]

import type { Pod } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { deployment, docker, finish, fmt, podReady, startPodBench, whenPods } from './pods-common.js';
import { median, percentile, writeSection } from './lib.js';

const KILLS = Number(process.argv[2] ?? 15);
const SLOT = 51;
const server = await startPodBench(SLOT);

const appId = (p: Pod) => (p.status?.containerStatuses?.find((c) => c.name === 'app')?.containerID ?? '').replace('docker://', '');

try {
  await server.client.create(R.deployments, deployment('victim', KILLS));
  await whenPods(server, 'victim', (pods) => [...pods.values()].filter(podReady).length >= KILLS);
  await new Promise((r) => setTimeout(r, 2000));
  const pods = (await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=victim' })).items;
  const times: number[] = [];
  let sameIP = 0;
  for (const p of pods.slice(0, KILLS)) {
    const name = p.metadata.name!;
    const old = appId(p);
    const replaced = whenPods(server, 'victim', (m) => {
      const now = m.get(name);
      return !!now && appId(now) !== '' && appId(now) !== old && podReady(now);
    }, 30_000);
    // the watch sends the current state first; give it a moment to be established
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await docker.getContainer(old).kill();
    const t1 = await replaced;
    times.push(t1 - t0);
    const after = await server.client.get<Pod>(R.pods, 'default', name);
    if (after.status?.podIP === p.status?.podIP) sameIP++;
    console.error(`${name}: ${fmt(t1 - t0)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  const rows = [
    '| figure | value | target |',
    '|---|---|---|',
    `| kill -> replacement Ready, median of ${times.length} | **${fmt(median(times))}** | < 1 s |`,
    `| p90 / max | ${fmt(percentile(times, 90))} / ${fmt(Math.max(...times))} | — |`,
    `| Pod IP unchanged across the restart | ${sameIP} of ${times.length} | all |`,
  ];
  const body = `${rows.join('\n')}\n\nA ${KILLS}-replica Deployment of kubelite/echo:1 with an httpGet readiness probe (period 10 s: the first probe of a new container runs at once and is retried quickly until it passes); each round \`docker kill\`s another replica's app container and times until the API shows that Pod Ready with a new container id. Chain: Docker \`die\` event -> inspect -> pod sync -> create + start in the same sandbox -> probe -> status write.`;
  writeSection('pods-kill', 'Container killed -> replacement Ready (issue #3 b)', 'npm run build && node --import tsx bench/pods-kill.ts', body);
} finally {
  await finish(server);
}
