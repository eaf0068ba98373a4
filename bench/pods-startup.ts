// Issue #3 (a), #17 item 17: applying a 20-replica Deployment (no probes) until every Pod is Ready,
// against 20 parallel raw `docker run -d` of the same image on the same bridge, measured in the same run
// (rounds interleaved), with the server in its default configuration (every component on: the proxy,
// DNS and ingress watch the same objects and share the 2 cores). A third line does by hand, with
// dockerode, what a Pod costs Docker (a pause sandbox, then the app container joined to it), to show
// what the infra container adds apart from kubelite itself.
//   npm run build && node --import tsx bench/pods-startup.ts [rounds=3] [replicas=20]

import { R } from '../src/api/resources.js';
import { LABELS } from '../src/agent/labels.js';
import { deleteDeployment, deployment, docker, finish, fmt, podReady, run, startPodBench, whenPods } from './pods-common.js';
import os from 'node:os';
import { median, writeSection } from './lib.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const N = Number(process.argv[3] ?? 20);
const SLOT = 50;

const server = await startPodBench(SLOT, {}, { allComponents: true });
const network = `kubelite-${server.instance}`;
const label = `${LABELS.instance}=${server.instance}`;

async function removeBenchContainers(kind: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [label, `bench=${kind}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}

async function rawDockerRun(): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: N }, () => run('docker', ['run', '-d', '--network', network, '--label', label, '--label', 'bench=raw', 'kubelite/echo:1'])));
  const ms = performance.now() - t0;
  await removeBenchContainers('raw');
  return ms;
}

async function podShaped(): Promise<number> {
  const labels = { [LABELS.instance]: server.instance, bench: 'pod' };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: N }, async () => {
      const infra = await docker.createContainer({ Image: 'kubelite/pause:1', Labels: labels, HostConfig: { NetworkMode: network, IpcMode: 'shareable' } });
      await infra.start();
      const app = await docker.createContainer({ Image: 'kubelite/echo:1', Labels: labels, HostConfig: { NetworkMode: `container:${infra.id}`, IpcMode: `container:${infra.id}` } });
      await app.start();
    }),
  );
  const ms = performance.now() - t0;
  await removeBenchContainers('pod');
  return ms;
}

async function kubeliteDeployment(round: number): Promise<{ all: number; first: number }> {
  const name = `start${round}`;
  let first = 0;
  const t0 = performance.now();
  const ready = whenPods(server, name, (pods) => {
    const n = [...pods.values()].filter(podReady).length;
    if (n > 0 && !first) first = performance.now() - t0;
    return n >= N;
  });
  await server.client.create(R.deployments, deployment(name, N, false));
  const t1 = await ready;
  await deleteDeployment(server, name);
  return { all: t1 - t0, first };
}

try {
  // Warm-up: images, the pod network, JIT of every path.
  await server.client.create(R.deployments, deployment('warm', 2, false));
  await whenPods(server, 'warm', (pods) => [...pods.values()].filter(podReady).length >= 2);
  await deleteDeployment(server, 'warm');
  await rawDockerRun();

  const raw: number[] = [];
  const pod: number[] = [];
  const kube: number[] = [];
  const firstReady: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    raw.push(await rawDockerRun());
    pod.push(await podShaped());
    const k = await kubeliteDeployment(i);
    kube.push(k.all);
    firstReady.push(k.first);
    console.error(`round ${i + 1}: raw ${fmt(raw[i])}, pod-shaped ${fmt(pod[i])}, kubelite ${fmt(k.all)} (first Ready ${fmt(k.first)})`);
  }
  const base = median(raw);
  const rows = [
    '| what | median of ' + ROUNDS + ' rounds | all rounds | vs raw docker run |',
    '|---|---|---|---|',
    `| ${N} parallel \`docker run -d kubelite/echo:1\` (baseline) | ${fmt(base)} | ${raw.map(fmt).join(', ')} | 1.00x |`,
    `| ${N} pod-shaped starts by hand (pause sandbox + joined app, dockerode) | ${fmt(median(pod))} | ${pod.map(fmt).join(', ')} | ${(median(pod) / base).toFixed(2)}x |`,
    `| **kubelite: apply a ${N}-replica Deployment until all Pods are Ready** | **${fmt(median(kube))}** | ${kube.map(fmt).join(', ')} | **${(median(kube) / base).toFixed(2)}x** |`,
    `| kubelite: first Pod Ready | ${fmt(median(firstReady))} | ${firstReady.map(fmt).join(', ')} | — |`,
  ];
  const ratio = median(kube) / base;
  const load = os.loadavg()[0];
  const body = `${rows.join('\n')}\n\nTarget: <= 1.5x the raw \`docker run\` time: **${ratio <= 1.5 ? 'met' : 'missed'}** (${ratio.toFixed(2)}x). The server runs in its default configuration (every component on; only the instance's addresses and ports differ). The kubelite figure runs the whole chain: Deployment -> ReplicaSet -> ${N} Pod objects -> scheduler bindings -> agent (sandbox with an address the agent picks, the app container created while the sandbox starts, then started) -> status; the Pods have no probes, so a Pod is Ready once its container runs. Each Pod costs Docker two containers (the pause sandbox that holds its IP across restarts, and the app): the pod-shaped line shows that cost without kubelite. Host load average ${load.toFixed(1)} (1 min) at the end${load > 2 ? ': other work shared the 2 cores' : ''}.`;
  writeSection('pods-startup', `Pod start-up: a ${N}-replica Deployment until Ready vs ${N} raw docker runs (issue #3 a, #17)`, `npm run build && node --import tsx bench/pods-startup.ts ${ROUNDS}`, body);
} finally {
  await finish(server);
}
