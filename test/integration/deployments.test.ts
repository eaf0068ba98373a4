// Deployments end to end on the real engine: a real `kubelite server` (slot 3) with its agent,
// scheduler and controllers; our CLI's scale and rollout commands as separate processes.
// Needs root and Docker; every container and network of instance t3 is removed afterwards.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Deployment, Pod, ReplicaSet } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { LABELS } from '../../src/agent/labels.js';
import { ROOT, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable, dockerClient } from '../helpers/docker.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 3;
const NS = 'default';
let server: TestServer | undefined;

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'proxy,dns,ingress'] });
});

test.after.always(async () => {
  await tearDownServer(server, SLOT);
});

function srv(): TestServer {
  if (!server) throw new Error('no server');
  return server;
}

/** Our CLI's scale/rollout: through cli/main.ts once it registers them, else a minimal entry with just those. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = fs.readFileSync(path.join(ROOT, 'cli/main.ts'), 'utf8');
  if (main.includes('registerRollout') && main.includes('registerScale')) return srv().cli(args);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/integration/deployments-cli-entry.ts'), '--kubeconfig', srv().kubeconfig, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function manifest(name: string, o: { replicas: number; version?: string; surge?: number; unavailable?: number }): Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? 1, maxUnavailable: o.unavailable ?? 1 } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'app',
              image: 'kubelite/echo:1',
              env: [{ name: 'VERSION', value: o.version ?? '1' }],
              readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
        },
      },
    },
  };
}

function isReady(p: Pod): boolean {
  return !p.metadata.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

async function pods(app: string): Promise<Pod[]> {
  return (await srv().client.list<Pod>(R.pods, { namespace: NS, labelSelector: `app=${app}` })).items;
}

async function readyPods(app: string, n: number, timeoutMs = 90_000, version?: string): Promise<Pod[]> {
  return waitFor<Pod[] | undefined>(
    async () => {
      const p = await pods(app);
      const live = p.filter((x) => !x.metadata.deletionTimestamp);
      const ok = p.length === n && live.length === n && live.every(isReady) && (!version || live.every((x) => x.spec.containers[0].env?.[0]?.value === version));
      return ok ? live : undefined;
    },
    timeoutMs,
    `${n} ready pods of ${app}${version ? ` at version ${version}` : ''}`,
  ) as Promise<Pod[]>;
}

/** Running app containers of this instance per pod uid, straight from the engine. */
async function appContainers(): Promise<Map<string, string[]>> {
  const list = await dockerClient().listContainers({ all: false, filters: { label: [`${LABELS.instance}=${srv().slot.instance}`, `${LABELS.role}=app`] } });
  const out = new Map<string, string[]>();
  for (const c of list) {
    const uid = c.Labels[LABELS.podUid];
    out.set(uid, [...(out.get(uid) ?? []), c.Labels[LABELS.containerName]]);
  }
  return out;
}

async function expectContainers(t: import('ava').ExecutionContext, live: Pod[]): Promise<void> {
  // The agent removes containers of deleted pods shortly after; settle on exactly one per live pod.
  const uids = new Set(live.map((p) => p.metadata.uid!));
  const byPod = (await waitFor<[string, string[]][] | undefined>(
    async () => {
      const m = await appContainers();
      const ours = [...m].filter(([uid]) => uids.has(uid));
      return [...m.keys()].every((uid) => uids.has(uid)) && ours.length === uids.size ? ours : undefined;
    },
    30_000,
    'one running container per pod and none for deleted pods',
  )) as [string, string[]][];
  for (const [uid, names] of byPod) t.deepEqual(names, ['app'], `pod ${uid} runs exactly one app container`);
}

test.serial('a 3-replica Deployment reaches 3 Ready pods, each one container on the engine', async (t) => {
  await srv().client.create(R.deployments, manifest('web', { replicas: 3 }));
  const live = await readyPods('web', 3);
  t.true(live.every((p) => !!p.spec.nodeName && !!p.status?.podIP));
  const r = await cli(['rollout', 'status', 'deploy/web', '--timeout', '60s']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /deployment "web" successfully rolled out\n$/);
  await expectContainers(t, live);
});

test.serial('scale 3 -> 6 -> 1 with kubelite scale', async (t) => {
  const stale = await cli(['scale', 'deploy/web', '--replicas', '6', '--current-replicas', '5']);
  t.is(stale.code, 1);
  t.is(stale.stderr, 'error: Expected replicas to be 5, was 3\n');
  for (const [n, precondition] of [[6, []], [1, ['--current-replicas', '6']]] as const) {
    const r = await cli(['scale', 'deploy/web', '--replicas', String(n), ...precondition]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'deployment.apps/web scaled\n');
    const live = await readyPods('web', n);
    const d = await srv().client.get<Deployment>(R.deployments, NS, 'web');
    await waitFor(async () => (await srv().client.get<Deployment>(R.deployments, NS, 'web')).status?.availableReplicas === n, 30_000, `availableReplicas ${n}`);
    t.is(d.spec.replicas, n);
    await expectContainers(t, live);
  }
  t.is((await srv().client.list<ReplicaSet>(R.replicasets, { namespace: NS, labelSelector: 'app=web' })).items.length, 1);
});

test.serial('a rolling update with a readiness probe never has fewer than replicas - maxUnavailable Ready pods', async (t) => {
  const replicas = 4;
  await srv().client.create(R.deployments, manifest('roll', { replicas, surge: 1, unavailable: 1 }));
  await readyPods('roll', replicas);

  // Sample every change of the pods as the API streams it.
  const state = new Map<string, Pod>();
  for (const p of await pods('roll')) state.set(p.metadata.name!, p);
  let minReady = Infinity;
  let samples = 0;
  const list = await srv().client.list<Pod>(R.pods, { namespace: NS, labelSelector: 'app=roll' });
  const watch = srv().client.watch<Pod>(R.pods, { namespace: NS, labelSelector: 'app=roll', resourceVersion: list.metadata.resourceVersion }, {
    onEvent: (ev) => {
      if (ev.type === 'DELETED') state.delete(ev.object.metadata.name!);
      else state.set(ev.object.metadata.name!, ev.object);
      minReady = Math.min(minReady, [...state.values()].filter(isReady).length);
      samples++;
    },
  });
  t.teardown(() => watch.stop());

  await srv().client.patch(R.deployments, NS, 'roll', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'VERSION', value: '2' }] }] } } } });
  const r = await cli(['rollout', 'status', 'deploy/roll', '--timeout', '120s']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Waiting for deployment "roll" rollout to finish/);
  const live = await readyPods('roll', replicas, 60_000, '2');
  watch.stop();
  t.true(samples > 10, `${samples} samples`);
  t.true(minReady >= replicas - 1, `Ready pods dipped to ${minReady}`);
  await expectContainers(t, [...live, ...(await pods('web'))]);
});

test.serial('kill -9 of the server mid-rollout converges to exactly replicas pods without duplicate containers', async (t) => {
  const replicas = 3;
  await srv().client.create(R.deployments, manifest('crash', { replicas, surge: 1, unavailable: 0 }));
  await readyPods('crash', replicas);
  await srv().client.patch(R.deployments, NS, 'crash', 'strategic', { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'VERSION', value: '2' }] }] } } } });
  // Kill once the new revision has started but before it is done.
  await waitFor(async () => (await pods('crash')).some((p) => p.spec.containers[0].env?.[0]?.value === '2'), 30_000, 'a pod of the new revision');
  const before = await pods('crash');
  await srv().stop('SIGKILL');
  t.true(before.some((p) => p.spec.containers[0].env?.[0]?.value === '1' && !p.metadata.deletionTimestamp), 'killed while old pods still served');
  await srv().restart();
  const live = await readyPods('crash', replicas, 120_000, '2');
  const rss = (await srv().client.list<ReplicaSet>(R.replicasets, { namespace: NS, labelSelector: 'app=crash' })).items;
  t.is(rss.length, 2);
  t.deepEqual(rss.map((x) => x.spec.replicas).sort(), [0, replicas]);
  const all = [...live, ...(await pods('web')), ...(await pods('roll'))];
  await expectContainers(t, all);
});

test.serial('rollout history, undo and restart through kubelite rollout', async (t) => {
  let r = await cli(['rollout', 'history', 'deploy/crash']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'deployment.apps/crash \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n');
  r = await cli(['rollout', 'undo', 'deploy/crash']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'deployment.apps/crash rolled back\n');
  r = await cli(['rollout', 'status', 'deploy/crash', '--timeout', '120s']);
  t.is(r.code, 0, r.stderr);
  await readyPods('crash', 3, 60_000, '1');
  r = await cli(['rollout', 'undo', 'deploy/crash', '--to-revision', '9']);
  t.is(r.code, 1);
  t.is(r.stderr, 'error: unable to find specified revision 9 in history\n');
  r = await cli(['rollout', 'restart', 'deploy/crash']);
  t.is(r.stdout, 'deployment.apps/crash restarted\n');
  r = await cli(['rollout', 'status', 'deploy/crash', '--timeout', '120s']);
  t.is(r.code, 0, r.stderr);
  const live = await readyPods('crash', 3, 60_000, '1');
  t.true(live.every((p) => !!p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']));
  r = await cli(['rollout', 'history', 'deploy/crash']);
  t.regex(r.stdout, /^deployment\.apps\/crash \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n4         <none>\n\n$/);
});

test.serial('deleting a Deployment removes its ReplicaSets, pods and containers', async (t) => {
  for (const name of ['web', 'roll', 'crash']) await srv().client.delete(R.deployments, NS, name);
  await waitFor(async () => (await srv().client.list(R.pods, { namespace: NS })).items.length === 0, 60_000, 'all pods gone');
  t.deepEqual((await srv().client.list(R.replicasets, { namespace: NS })).items, []);
  await waitFor(async () => (await appContainers()).size === 0, 30_000, 'no app containers left');
  t.is((await appContainers()).size, 0);
});
