// The agent on the real engine: a `kubelite server` (slot 2) with only its agent, Pods bound straight to
// its node. Sandbox + containers, env and volumes, probes, restarts and back-off, pull failures, clashes,
// graceful deletion, logs and exec through our CLI. Needs root and Docker; every container and network
// of instance t2 is removed afterwards.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import type { ConfigMap, Endpoints, Pod, Secret } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { LABELS } from '../../src/agent/labels.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable, dockerClient, execIn } from '../helpers/docker.js';
import { cli, createPod, cstatus, dockerId, events, getPod, isReady, nodeName, podContainers, podManifest, waitPod } from './pods-helpers.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 2;
let server: TestServer | undefined;
let node = '';

function srv(): TestServer {
  if (!server) throw new Error('no server');
  return server;
}

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'scheduler,controllers,proxy,dns,ingress'], env: { KUBELITE_BACKOFF_BASE_MS: '300' } });
  node = await nodeName(server);
});

test.after.always(async () => {
  await tearDownServer(server, SLOT);
});

const instance = () => srv().slot.instance;
const docker = dockerClient;
const LOOP = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"];

test.serial('the node is registered Ready with Docker capacity and the pod network exists', async (t) => {
  const n = (await srv().client.get(R.nodes, undefined, node)) as unknown as { spec: { podCIDR: string }; status: { capacity: Record<string, string>; conditions: { type: string; status: string }[] } };
  t.is(n.spec.podCIDR, srv().slot.podCIDR);
  t.regex(n.status.capacity.cpu, /^\d+$/);
  t.is(n.status.capacity.pods, '110');
  t.is(n.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  const net = await docker().getNetwork(`kubelite-${instance()}`).inspect();
  t.is(net.IPAM?.Config?.[0].Subnet, srv().slot.podCIDR);
  t.is(net.Options?.['com.docker.network.bridge.name'], `kl0-${instance()}`);
});

test.serial('two containers share localhost and the pod IP; the hostname is the pod name', async (t) => {
  await createPod(srv(), podManifest('duo', node, { containers: [{ name: 'app', image: 'kubelite/echo:1' }, { name: 'side', image: 'kubelite/echo:1', command: LOOP }] }));
  const p = await waitPod(srv(), 'duo', isReady, 'Ready');
  t.is(p.status?.phase, 'Running');
  t.truthy(p.status?.podIP);
  t.true(p.status!.podIP!.startsWith(srv().slot.podCIDR.replace(/\.0\/24$/, '.')));
  const side = dockerId(p, 'side');
  const r = await execIn(side, ['wget', '-qO-', 'http://localhost:8080/hello']);
  t.is(r.exitCode, 0);
  t.regex(r.stdout, new RegExp(`pod=duo ip=${p.status!.podIP!.replace(/\./g, '\\.')} path=/hello`));
  t.is((await execIn(side, ['hostname'])).stdout.trim(), 'duo');
  // one sandbox holds the network; both containers joined it
  const all = await podContainers(instance(), 'duo');
  const sandbox = all.find((c) => c.Labels[LABELS.role] === 'infra')!;
  t.truthy(sandbox);
  for (const c of all.filter((x) => x.Labels[LABELS.role] === 'app')) t.is(c.HostConfig.NetworkMode, `container:${sandbox.Id}`);
  t.is(all.length, 3);
  const resolv = (await execIn(side, ['cat', '/etc/resolv.conf'])).stdout;
  t.regex(resolv, new RegExp(`nameserver ${srv().slot.clusterDNS.replace(/\./g, '\\.')}`));
  t.regex(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
});

test.serial('env from fields, configMaps and secrets; configMap/secret/emptyDir volumes; limits', async (t) => {
  const c = srv().client;
  await c.create<ConfigMap>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { color: 'blue', 'app.conf': 'level=1\n' } });
  await c.create<Secret>(R.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'default' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  await createPod(
    srv(),
    podManifest('envvol', node, {
      volumes: [
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
        { name: 'scratch', emptyDir: {} },
      ],
      containers: [
        {
          name: 'app',
          image: 'kubelite/echo:1',
          command: LOOP,
          resources: { limits: { cpu: '250m', memory: '64Mi' } },
          env: [
            { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
            { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
            { name: 'MSG', value: 'color is $(COLOR)' },
          ],
          envFrom: [{ prefix: 'CM_', configMapRef: { name: 'cfg' } }],
          volumeMounts: [
            { name: 'cfg', mountPath: '/etc/cfg' },
            { name: 'sec', mountPath: '/etc/sec' },
            { name: 'scratch', mountPath: '/scratch' },
          ],
        },
        { name: 'peer', image: 'kubelite/echo:1', command: LOOP, volumeMounts: [{ name: 'scratch', mountPath: '/shared' }] },
      ],
    }),
  );
  const p = await waitPod(srv(), 'envvol', isReady, 'Ready');
  const id = dockerId(p);
  const env = (await execIn(id, ['env'])).stdout;
  for (const line of ['MY_POD=envvol', 'MY_NS=default', `MY_IP=${p.status!.podIP}`, 'COLOR=blue', 'PASS=s3cret', 'MSG=color is blue', 'CM_color=blue']) t.true(env.split('\n').includes(line), line);
  t.is((await execIn(id, ['cat', '/etc/cfg/app.conf'])).stdout, 'level=1\n');
  t.is((await execIn(id, ['cat', '/etc/sec/password'])).stdout, 's3cret');
  t.is((await execIn(id, ['stat', '-L', '-c', '%a', '/etc/sec/password'])).stdout.trim(), '400');
  t.not((await execIn(id, ['sh', '-c', 'echo x > /etc/cfg/new'])).exitCode, 0, 'configMap volumes are read-only');
  await execIn(id, ['sh', '-c', 'echo from-app > /scratch/note']);
  t.is((await execIn(dockerId(p, 'peer'), ['cat', '/shared/note'])).stdout, 'from-app\n');
  const info = await docker().getContainer(id).inspect();
  t.is(info.HostConfig.NanoCpus, 250_000_000);
  t.is(info.HostConfig.Memory, 64 * 1024 * 1024);
  t.deepEqual(info.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  t.is(info.Config.Labels[LABELS.podUid], p.metadata.uid ?? 'missing');
  t.is(info.Config.Labels[LABELS.containerName], 'app');
  // a configMap change reaches the volume without a restart
  const cm = await c.get<ConfigMap>(R.configmaps, 'default', 'cfg');
  await c.update(R.configmaps, { ...cm, data: { ...cm.data, 'app.conf': 'level=2\n' } } as ConfigMap);
  await waitFor(async () => (await execIn(id, ['cat', '/etc/cfg/app.conf'])).stdout === 'level=2\n', 15_000, 'the configMap update in the volume');
  t.is(dockerId((await getPod(srv(), 'envvol'))!), id, 'no restart for a configMap change');
});

test.serial('a missing configMap is CreateContainerConfigError until it exists', async (t) => {
  await createPod(srv(), podManifest('needcm', node, { containers: [{ name: 'app', image: 'kubelite/echo:1', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'later', key: 'k' } } }] }] }));
  const p = await waitPod(srv(), 'needcm', (x) => cstatus(x)?.state.waiting?.reason === 'CreateContainerConfigError', 'CreateContainerConfigError');
  t.is(cstatus(p)?.state.waiting?.message, 'configmap "later" not found');
  await srv().client.create<ConfigMap>(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', namespace: 'default' }, data: { k: 'v' } });
  await waitPod(srv(), 'needcm', isReady, 'Ready once the configMap exists', 15_000);
});

test.serial('the readiness probe drives Ready (toggled through our exec)', async (t) => {
  await createPod(srv(), podManifest('ready', node, { containers: [{ name: 'app', image: 'kubelite/echo:1', readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, failureThreshold: 1 } }] }));
  await waitPod(srv(), 'ready', isReady, 'Ready');
  const r = await cli(srv(), ['exec', 'ready', '--', 'touch', '/tmp/unready']);
  t.is(r.code, 0, r.stderr);
  const p = await waitPod(srv(), 'ready', (x) => !isReady(x), 'not Ready', 10_000);
  t.is(cstatus(p)?.ready, false);
  t.is(p.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ContainersNotReady');
  await cli(srv(), ['exec', 'ready', '--', 'rm', '/tmp/unready']);
  const back = await waitPod(srv(), 'ready', isReady, 'Ready again', 10_000);
  t.is(cstatus(back)?.restartCount, 0);
});

test.serial('a failing liveness probe restarts the container', async (t) => {
  await createPod(srv(), podManifest('live', node, { containers: [{ name: 'app', image: 'kubelite/echo:1', livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 2 } }] }));
  const p = await waitPod(srv(), 'live', isReady, 'Ready');
  await execIn(dockerId(p), ['touch', '/tmp/unhealthy']);
  const after = await waitPod(srv(), 'live', (x) => (cstatus(x)?.restartCount ?? 0) >= 1 && isReady(x), 'restarted', 20_000);
  t.not(dockerId(after), dockerId(p));
  t.is(after.status?.podIP, p.status?.podIP);
  const evs = await events(srv(), 'live');
  t.true(evs.some((e) => e.reason === 'Unhealthy' && /Liveness probe failed: HTTP probe failed with statuscode: 500/.test(e.message ?? '')));
  t.true(evs.some((e) => e.reason === 'Killing' && /failed liveness probe/.test(e.message ?? '')));
});

test.serial('docker kill and docker rm -f of the app container: a replacement with the same pod IP', async (t) => {
  await createPod(srv(), podManifest('phoenix', node, { containers: [{ name: 'app', image: 'kubelite/echo:1', readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }] }));
  const p = await waitPod(srv(), 'phoenix', isReady, 'Ready');
  const first = dockerId(p);
  await docker().getContainer(first).kill();
  const p2 = await waitPod(srv(), 'phoenix', (x) => dockerId(x) !== first && isReady(x), 'a replacement after docker kill', 15_000);
  t.is(cstatus(p2)?.restartCount, 1);
  t.is(p2.status?.podIP, p.status?.podIP);
  t.is(cstatus(p2)?.lastState.terminated?.exitCode, 137);
  const second = dockerId(p2);
  await docker().getContainer(second).remove({ force: true });
  const p3 = await waitPod(srv(), 'phoenix', (x) => dockerId(x) !== second && dockerId(x) !== '' && isReady(x), 'a replacement after docker rm -f', 15_000);
  t.is(p3.status?.podIP, p.status?.podIP);
  t.true((cstatus(p3)?.restartCount ?? 0) >= 2);
  const running = (await podContainers(instance(), 'phoenix')).filter((c) => c.State === 'running');
  t.is(running.length, 2, 'one sandbox and one app container, no duplicates');
});

test.serial('the sandbox removed by hand: a new sandbox, the containers restarted into it', async (t) => {
  const p = await waitPod(srv(), 'phoenix', isReady, 'Ready');
  const sandbox = (await podContainers(instance(), 'phoenix')).find((c) => c.Labels[LABELS.role] === 'infra' && c.State === 'running')!;
  await docker().getContainer(sandbox.Id).remove({ force: true });
  const p2 = await waitPod(srv(), 'phoenix', (x) => isReady(x) && dockerId(x) !== dockerId(p), 'running again in a new sandbox', 20_000);
  const now = await podContainers(instance(), 'phoenix');
  const sandboxes = now.filter((c) => c.Labels[LABELS.role] === 'infra');
  t.is(sandboxes.length, 1);
  t.not(sandboxes[0].Id, sandbox.Id);
  t.is(now.find((c) => c.Id === dockerId(p2))?.HostConfig.NetworkMode, `container:${sandboxes[0].Id}`);
});

test.serial('a command that exits at once: CrashLoopBackOff with its exit code; logs --previous', async (t) => {
  await createPod(srv(), podManifest('crash', node, { containers: [{ name: 'app', image: 'kubelite/echo:1', command: ['sh', '-c', 'echo attempt; exit 3'] }] }));
  const p = await waitPod(srv(), 'crash', (x) => cstatus(x)?.state.waiting?.reason === 'CrashLoopBackOff' && (cstatus(x)?.restartCount ?? 0) >= 2, 'CrashLoopBackOff', 20_000);
  const cs = cstatus(p)!;
  t.regex(cs.state.waiting?.message ?? '', /^back-off \d+(\.\d+)?m?s restarting failed container=app pod=crash_default\(/);
  t.is(cs.lastState.terminated?.exitCode, 3);
  t.is(cs.lastState.terminated?.reason, 'Error');
  t.is(p.status?.phase, 'Running');
  const logs = await cli(srv(), ['logs', 'crash', '--previous']);
  t.is(logs.code, 0, logs.stderr);
  t.is(logs.stdout, 'attempt\n');
  const kept = await podContainers(instance(), 'crash');
  t.true(kept.filter((c) => c.Labels[LABELS.role] === 'app').length <= 2, 'dead containers beyond the last ones are removed');
});

test.serial('restartPolicy Never and OnFailure', async (t) => {
  await createPod(srv(), podManifest('never', node, { restartPolicy: 'Never', containers: [{ name: 'app', image: 'kubelite/echo:1', command: ['sh', '-c', 'exit 1'] }] }));
  // fails once, then succeeds: the marker lives in an emptyDir, which outlives the container
  await createPod(
    srv(),
    podManifest('onfail', node, {
      restartPolicy: 'OnFailure',
      volumes: [{ name: 'state', emptyDir: {} }],
      containers: [{ name: 'app', image: 'kubelite/echo:1', command: ['sh', '-c', 'if [ -e /state/ran ]; then echo second; exit 0; fi; touch /state/ran; echo first; exit 1'], volumeMounts: [{ name: 'state', mountPath: '/state' }] }],
    }),
  );
  const never = await waitPod(srv(), 'never', (x) => x.status?.phase === 'Failed', 'Failed');
  t.is(cstatus(never)?.restartCount, 0);
  t.is(cstatus(never)?.state.terminated?.exitCode, 1);
  const onfail = await waitPod(srv(), 'onfail', (x) => x.status?.phase === 'Succeeded', 'Succeeded', 20_000);
  t.is(cstatus(onfail)?.restartCount, 1);
  t.is(cstatus(onfail)?.state.terminated?.reason, 'Completed');
  await new Promise((r) => setTimeout(r, 1000));
  t.is(cstatus((await getPod(srv(), 'never'))!)?.restartCount, 0, 'Never means never');
  // a finished pod keeps no running sandbox
  await waitFor(async () => (await podContainers(instance(), 'never')).every((c) => c.State !== 'running'), 10_000, 'the sandbox of a finished pod to stop');
});

test.serial('a missing image: ErrImagePull then ImagePullBackOff with the registry message; other pods untouched', async (t) => {
  const bystander = await waitPod(srv(), 'duo', isReady, 'Ready');
  await createPod(srv(), podManifest('noimage', node, { containers: [{ name: 'app', image: '127.0.0.1:5999/nothing:1' }] }));
  const seen = new Map<string, string>();
  await waitFor(
    async () => {
      const p = await getPod(srv(), 'noimage');
      const w = p && cstatus(p)?.state.waiting;
      if (w?.reason) seen.set(w.reason, w.message ?? '');
      return seen.has('ErrImagePull') && seen.has('ImagePullBackOff');
    },
    20_000,
    'ErrImagePull and ImagePullBackOff',
    25,
  );
  t.regex(seen.get('ErrImagePull')!, /^Failed to pull image "127\.0\.0\.1:5999\/nothing:1": .*connection refused/);
  t.regex(seen.get('ImagePullBackOff')!, /^Back-off pulling image "127\.0\.0\.1:5999\/nothing:1": .*connection refused/);
  const p = (await getPod(srv(), 'noimage'))!;
  t.is(p.status?.phase, 'Pending');
  t.true((await events(srv(), 'noimage')).some((e) => e.reason === 'Failed' && /Failed to pull image/.test(e.message ?? '')));
  const after = (await getPod(srv(), 'duo'))!;
  t.true(isReady(after));
  t.is(dockerId(after), dockerId(bystander));
  t.is(cstatus(after)?.restartCount, cstatus(bystander)?.restartCount);
});

test.serial('a hostPort clash: the second pod says why, the first keeps running', async (t) => {
  const port = srv().slot.nodePortRange[1];
  const withPort = (name: string) => podManifest(name, node, { containers: [{ name: 'app', image: 'kubelite/echo:1', ports: [{ containerPort: 8080, hostPort: port, hostIP: '127.0.0.1' }] }] });
  await createPod(srv(), withPort('port1'));
  await waitPod(srv(), 'port1', isReady, 'Ready');
  await createPod(srv(), withPort('port2'));
  const p = await waitPod(srv(), 'port2', (x) => cstatus(x)?.state.waiting?.reason === 'CreatePodSandboxError', 'CreatePodSandboxError', 15_000);
  t.regex(cstatus(p)?.state.waiting?.message ?? '', /Failed to create pod sandbox: .*(port is already allocated|address already in use)/);
  t.true((await events(srv(), 'port2')).some((e) => e.reason === 'FailedCreatePodSandBox'));
  t.true(isReady((await getPod(srv(), 'port1'))!));
  await srv().client.delete(R.pods, 'default', 'port2', { gracePeriodSeconds: 0 });
});

test.serial('an impossible resource request is refused with OutOfcpu', async (t) => {
  await createPod(srv(), podManifest('huge', node, { containers: [{ name: 'app', image: 'kubelite/echo:1', resources: { limits: { cpu: '512' } } }] }));
  const p = await waitPod(srv(), 'huge', (x) => x.status?.phase === 'Failed', 'Failed');
  t.is(p.status?.reason, 'OutOfcpu');
  t.regex(p.status?.message ?? '', /^Pod was rejected: Node didn't have enough resource: cpu, requested: 512000/);
  t.true((await events(srv(), 'huge')).some((e) => e.reason === 'OutOfcpu'));
  t.is((await podContainers(instance(), 'huge')).length, 0);
});

test.serial('graceful deletion: SIGTERM, removal, then the object is gone; SIGKILL after the grace period', async (t) => {
  await createPod(srv(), podManifest('bye', node, { terminationGracePeriodSeconds: 20, containers: [{ name: 'app', image: 'kubelite/echo:1', command: LOOP }] }));
  const p = await waitPod(srv(), 'bye', isReady, 'Ready');
  const waited = docker().getContainer(dockerId(p)).wait() as Promise<{ StatusCode: number }>;
  const t0 = Date.now();
  await srv().client.delete(R.pods, 'default', 'bye');
  t.is((await waited).StatusCode, 0, 'the trap ran: SIGTERM, not SIGKILL');
  await waitFor(async () => (await getPod(srv(), 'bye')) === undefined, 15_000, 'the pod object to go');
  t.true(Date.now() - t0 < 10_000, 'well before the 20 s grace period');
  t.is((await podContainers(instance(), 'bye')).length, 0);
  t.true((await events(srv(), 'bye')).some((e) => e.reason === 'Killing'));

  await createPod(srv(), podManifest('stubborn', node, { terminationGracePeriodSeconds: 2, containers: [{ name: 'app', image: 'kubelite/echo:1', command: ['sh', '-c', "trap '' TERM; while true; do sleep 0.2; done"] }] }));
  const s = await waitPod(srv(), 'stubborn', isReady, 'Ready');
  const killed = docker().getContainer(dockerId(s)).wait() as Promise<{ StatusCode: number }>;
  const t1 = Date.now();
  await srv().client.delete(R.pods, 'default', 'stubborn');
  t.is((await killed).StatusCode, 137);
  const took = Date.now() - t1;
  t.true(took >= 1500 && took < 6000, `killed after the grace period (${took} ms)`);
  await waitFor(async () => (await getPod(srv(), 'stubborn')) === undefined, 15_000, 'the pod object to go');
});

test.serial('deletion goes Ready=False first and keeps serving until the IP left the Endpoints (capped at 5 s)', async (t) => {
  const c = srv().client;
  const endpointsFor = (name: string, ip: string | undefined): Endpoints => ({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: 'default' },
    subsets: ip ? [{ addresses: [{ ip }], ports: [{ port: 8080, protocol: 'TCP' }] }] : [],
  });
  await createPod(srv(), podManifest('drain', node, { terminationGracePeriodSeconds: 30 }));
  const p = await waitPod(srv(), 'drain', isReady, 'Ready');
  await c.create(R.endpoints, endpointsFor('drain', p.status!.podIP));
  const id = dockerId(p);
  const t0 = Date.now();
  await c.delete(R.pods, 'default', 'drain');
  const unready = await waitPod(srv(), 'drain', (x) => !isReady(x), 'Ready=False', 5000);
  t.is(unready.status?.conditions?.find((x) => x.type === 'Ready')?.reason, 'PodTerminating');
  await new Promise((r) => setTimeout(r, 1200));
  t.true((await docker().getContainer(id).inspect()).State.Running, 'still serving while the endpoints list it');
  // the "endpoints controller" drops the address: the pod stops after a short settle time
  const ep = await c.get<Endpoints>(R.endpoints, 'default', 'drain');
  const waited = docker().getContainer(id).wait() as Promise<{ StatusCode: number }>;
  const tDrop = Date.now();
  await c.update(R.endpoints, { ...ep, subsets: [] } as Endpoints);
  await waited;
  const afterDrop = Date.now() - tDrop;
  t.true(afterDrop >= 200 && afterDrop < 3000, `stopped ${afterDrop} ms after the endpoints update`);
  await waitFor(async () => (await getPod(srv(), 'drain')) === undefined, 10_000, 'the pod object to go');
  t.true(Date.now() - t0 < 10_000);

  // nobody updates the endpoints: the wait is capped at 5 s
  await createPod(srv(), podManifest('drain2', node, { terminationGracePeriodSeconds: 30 }));
  const p2 = await waitPod(srv(), 'drain2', isReady, 'Ready');
  await c.create(R.endpoints, endpointsFor('drain2', p2.status!.podIP));
  const waited2 = docker().getContainer(dockerId(p2)).wait() as Promise<{ StatusCode: number }>;
  const t2 = Date.now();
  await c.delete(R.pods, 'default', 'drain2');
  await waited2;
  const took = Date.now() - t2;
  t.true(took >= 4500 && took < 9000, `stopped after the 5 s cap (${took} ms)`);
  await c.delete(R.endpoints, 'default', 'drain');
  await c.delete(R.endpoints, 'default', 'drain2');
});

test.serial('a pod deleted with grace 0 is cleaned up from Docker', async (t) => {
  await createPod(srv(), podManifest('forced', node, { containers: [{ name: 'app', image: 'kubelite/echo:1' }] }));
  await waitPod(srv(), 'forced', isReady, 'Ready');
  await srv().client.delete(R.pods, 'default', 'forced', { gracePeriodSeconds: 0 });
  await waitFor(async () => (await podContainers(instance(), 'forced')).length === 0, 15_000, 'the containers to go');
  t.is(await getPod(srv(), 'forced'), undefined);
});

test.serial('logs through our CLI: --tail, -f ends when the container exits, errors', async (t) => {
  await createPod(srv(), podManifest('talker', node, { restartPolicy: 'Never', containers: [{ name: 'app', image: 'kubelite/echo:1', command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; echo err $i >&2; sleep 0.3; done; echo end'] }] }));
  await waitPod(srv(), 'talker', (x) => !!cstatus(x)?.state.running, 'running');
  const t0 = Date.now();
  const follow = await cli(srv(), ['logs', 'talker', '-f']);
  t.is(follow.code, 0, follow.stderr);
  t.true(Date.now() - t0 < 10_000);
  t.is(follow.stdout.split('\n').filter((l) => l.startsWith('line')).length, 5, follow.stdout);
  t.true(follow.stdout.includes('err 5'), 'stderr lines too, without frame headers');
  t.false(follow.stdout.includes('\u0001'));
  await waitPod(srv(), 'talker', (x) => x.status?.phase === 'Succeeded', 'Succeeded');
  const tail = await cli(srv(), ['logs', 'talker', '--tail', '3']);
  // stdout and stderr lines written together may interleave either way in Docker's log
  t.deepEqual(tail.stdout.split('\n').slice(0, 2).sort(), ['err 5', 'line 5']);
  t.true(tail.stdout.endsWith('end\n'));
  const ts = await cli(srv(), ['logs', 'talker', '--tail', '1', '--timestamps']);
  t.regex(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z end\n$/);
  const missing = await cli(srv(), ['logs', 'nosuchpod']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /pods "nosuchpod" not found/);
  const two = await cli(srv(), ['logs', 'duo', '-c', 'nope']);
  t.regex(two.stderr, /container nope is not valid for pod duo/);
  // the API's own message when no container is named
  const raw = await srv().client.raw('GET', '/api/v1/namespaces/default/pods/duo/log');
  t.is(raw.status, 400);
  t.regex(raw.body, /a container name must be specified for pod duo, choose one of: \[app side\]/);
  const waiting = await srv().client.raw('GET', '/api/v1/namespaces/default/pods/noimage/log');
  t.regex(waiting.body, /container \\"app\\" in pod \\"noimage\\" is waiting to start: image can't be pulled/);
});

test.serial('exec through our CLI: exit code, stdout and stderr apart, stdin', async (t) => {
  const r = await cli(srv(), ['exec', 'duo', '-c', 'side', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
  t.is(r.code, 7);
  t.is(r.stdout, 'out\n');
  t.regex(r.stderr, /^err\ncommand terminated with exit code 7\n$/);
  const ok = await cli(srv(), ['exec', 'duo', '-c', 'side', '--', 'hostname']);
  t.is(ok.code, 0);
  t.is(ok.stdout, 'duo\n');
  const stdin = await cli(srv(), ['exec', '-i', 'duo', '-c', 'side', '--', 'sh', '-c', 'wc -l'], 'a\nb\nc\n');
  t.is(stdin.code, 0, stdin.stderr);
  t.is(stdin.stdout.trim(), '3');
  const defaulted = await cli(srv(), ['exec', 'duo', '--', 'true']);
  t.is(defaulted.code, 0);
  t.regex(defaulted.stderr, /Defaulted container "app" out of: app, side/);
  const gone = await cli(srv(), ['exec', 'nosuchpod', '--', 'true']);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /pods "nosuchpod" not found/);
  const done = await cli(srv(), ['exec', 'never', '--', 'true']);
  t.regex(done.stderr, /cannot exec into a container in a completed pod; current phase is Failed/);
});

test.serial('the real kubectl: exec exit codes and stdin, logs', async (t) => {
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  t.is(kubectl.status, 0, 'kubectl (v1.32) must be on the PATH for this test');
  const run = (args: string[], input?: string) => spawnSync('kubectl', ['--kubeconfig', srv().kubeconfig, ...args], { encoding: 'utf8', input, timeout: 30_000 });
  const e = run(['exec', 'duo', '-c', 'side', '--', 'sh', '-c', 'echo hi; exit 4']);
  t.is(e.status, 4, e.stderr);
  t.is(e.stdout, 'hi\n');
  const i = run(['exec', '-i', 'duo', '-c', 'side', '--', 'cat'], 'piped\n');
  t.is(i.status, 0, i.stderr);
  t.is(i.stdout, 'piped\n');
  const l = run(['logs', 'talker', '--tail', '1']);
  t.is(l.stdout, 'end\n');
});

test.serial('nothing left running for pods that are gone', async (t) => {
  const pods = await srv().client.list<Pod>(R.pods, { namespace: 'default' });
  const names = new Set(pods.items.map((p) => p.metadata.name));
  const all = await docker().listContainers({ all: true, filters: { label: [`${LABELS.instance}=${instance()}`] } });
  const strays = all.filter((c) => !names.has(c.Labels[LABELS.podName]));
  t.deepEqual(strays.map((c) => c.Names[0]), []);
});
