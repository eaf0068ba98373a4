// The agent under faults (slot 9): a server restart adopts running containers (same ids and start
// times, no readiness flap); a `kill -9` in the middle of creating Pods, plus containers removed or
// added by hand while it is down, converge without duplicates; a broken Docker events stream and a
// Docker engine that stops answering (a socket proxy we cut) are survived, the Node going NotReady
// meanwhile. Needs root and Docker; never restarts dockerd; removes everything of instance t9.

import test from 'ava';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import type { Node, Pod } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { LABELS } from '../../src/agent/labels.js';
import { Agent } from '../../src/agent/agent.js';
import { defaultConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/main/server.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { cleanupInstance, slotConfig, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable, dockerClient, removeContainersByLabel, removeNetworksByLabel } from '../helpers/docker.js';
import { createPod, cstatus, dockerId, getPod, isReady, nodeName, podContainers, podManifest, waitPod } from './pods-helpers.js';

const SLOT = 9;
const slot = slotConfig(SLOT);
let server: TestServer | undefined;
let inproc: RunningServer | undefined;
let proxy: SocketProxy | undefined;
const tmpDirs: string[] = [];
const docker = dockerClient;

async function wipe(): Promise<void> {
  await removeContainersByLabel(LABELS.instance, slot.instance).catch(() => 0);
  await removeNetworksByLabel(LABELS.instance, slot.instance).catch(() => 0);
}

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  await wipe();
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'scheduler,controllers,proxy,dns,ingress'], env: { KUBELITE_BACKOFF_BASE_MS: '300' } });
});

test.after.always(async () => {
  await server?.stop('SIGKILL').catch(() => undefined);
  await inproc?.stop().catch(() => undefined);
  await proxy?.close();
  cleanupInstance(server);
  await wipe();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function srv(): TestServer {
  if (!server) throw new Error('no server');
  return server;
}

async function snapshot(names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const c of await docker().listContainers({ all: true, filters: { label: [`${LABELS.instance}=${slot.instance}`] } })) {
    if (!names.includes(c.Labels[LABELS.podName])) continue;
    const info = await docker().getContainer(c.Id).inspect();
    out.set(c.Id, `${info.State.Status} ${info.State.StartedAt}`);
  }
  return out;
}

test.serial('a restarted server adopts its containers: same ids and start times, no readiness flap', async (t) => {
  const node = await nodeName(srv());
  const names = ['keep1', 'keep2', 'keep3'];
  for (const n of names.slice(0, 2)) await createPod(srv(), podManifest(n, node, { containers: [{ name: 'app', image: 'kubelite/echo:1', readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 } }] }));
  await createPod(srv(), podManifest('keep3', node, { containers: [{ name: 'app', image: 'kubelite/echo:1' }] }));
  for (const n of names) await waitPod(srv(), n, isReady, 'Ready');
  const before = await snapshot(names);
  const rvBefore = (await getPod(srv(), 'keep1'))!.status;
  await srv().stop();
  await srv().restart();
  // let the new agent sync everything
  await waitFor(async () => (await srv().client.raw('GET', '/readyz')).status === 200, 30_000, 'readyz');
  await new Promise((r) => setTimeout(r, 2500));
  t.deepEqual(await snapshot(names), before);
  const after = (await getPod(srv(), 'keep1'))!;
  t.true(isReady(after));
  t.deepEqual(after.status?.conditions?.find((c) => c.type === 'Ready'), rvBefore?.conditions?.find((c) => c.type === 'Ready'), 'the Ready condition never changed');
  t.is(cstatus(after)?.restartCount, 0);
});

test.serial('kill -9 while pods are being created, containers removed and added by hand: converges without duplicates', async (t) => {
  const node = await nodeName(srv());
  const names = ['burst0', 'burst1', 'burst2', 'burst3', 'burst4', 'burst5'];
  await Promise.all(names.map((n) => createPod(srv(), podManifest(n, node, { containers: [{ name: 'app', image: 'kubelite/echo:1' }] }))));
  await new Promise((r) => setTimeout(r, 400));
  await srv().stop('SIGKILL');

  // While it is down: one pod loses its app container, one gets a duplicate, and a pod that never existed leaves a container.
  const keep1 = await podContainers(slot.instance, 'keep1');
  const keepApp = keep1.find((c) => c.Labels[LABELS.role] === 'app' && c.State === 'running')!;
  await docker().getContainer(keepApp.Id).remove({ force: true });
  const keep3 = await podContainers(slot.instance, 'keep3');
  const orig = keep3.find((c) => c.Labels[LABELS.role] === 'app' && c.State === 'running')!;
  // (a loop, not the echo server: two servers in one network namespace would fight over port 8080)
  const dup = await docker().createContainer({ name: `${orig.Names[0].slice(1)}-dup`, Image: 'kubelite/echo:1', Cmd: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"], Labels: orig.Labels, HostConfig: { NetworkMode: orig.HostConfig.NetworkMode, RestartPolicy: { Name: 'no' } } });
  await dup.start();
  const ghostLabels = { ...orig.Labels, [LABELS.podName]: 'ghost', [LABELS.podUid]: '00000000-0000-0000-0000-000000000000' };
  const ghost = await docker().createContainer({ name: `k8s-${slot.instance}_app_ghost_default_x_0`, Image: 'kubelite/pause:1', Labels: ghostLabels, HostConfig: { NetworkMode: 'none' } });
  await ghost.start();

  await srv().restart();
  for (const n of [...names, 'keep1', 'keep2', 'keep3']) await waitPod(srv(), n, isReady, 'Ready', 40_000);
  await waitFor(async () => (await podContainers(slot.instance, 'ghost')).length === 0, 15_000, 'the ghost container to be removed');
  await waitFor(async () => (await podContainers(slot.instance, 'keep3')).filter((c) => c.State === 'running').length === 2, 15_000, 'the duplicate to be resolved');
  for (const n of [...names, 'keep1', 'keep2', 'keep3']) {
    const cs = await podContainers(slot.instance, n);
    const running = cs.filter((c) => c.State === 'running');
    t.is(running.filter((c) => c.Labels[LABELS.role] === 'infra').length, 1, `${n}: one sandbox`);
    t.is(running.filter((c) => c.Labels[LABELS.role] === 'app').length, 1, `${n}: one app container`);
    t.true(cs.every((c) => c.State !== 'created'), `${n}: no half-created leftovers`);
  }
  const k3 = (await getPod(srv(), 'keep3'))!;
  t.is(dockerId(k3), dup.id, 'of two running duplicates the newest stays');
  const k1 = (await getPod(srv(), 'keep1'))!;
  t.not(dockerId(k1), keepApp.Id);
  t.true((cstatus(k1)?.restartCount ?? 0) >= 1);
  await srv().stop();
});

// ---------- in-process: a broken events stream, a Docker engine that stops answering ----------

/**
 * A unix socket that forwards to Docker's; close() makes "Docker" stop answering, open() brings it back.
 * stallNextEvents(ms) plays dockerd's own order for the next events request: dockerd sends the response
 * headers first and subscribes the stream after, so whatever happens in between is not in the stream.
 * Here the client gets the headers at once and Docker gets the request `ms` later.
 */
class SocketProxy {
  private server?: net.Server;
  private readonly conns = new Set<net.Socket>();
  private stall?: { ms: number; answered: () => void };
  constructor(readonly path: string) {}
  stallNextEvents(ms: number): Promise<void> {
    return new Promise((answered) => (this.stall = { ms, answered }));
  }
  open(): Promise<void> {
    fs.rmSync(this.path, { force: true });
    this.server = net.createServer((client) => {
      const upstream = net.connect('/var/run/docker.sock');
      this.conns.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.conns.delete(client);
        this.conns.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      // Requests go one at a time on a (kept-alive) connection, each in writes of its own.
      let stripHead: Buffer | undefined;
      client.on('data', (chunk: Buffer) => {
        const stall = this.stall;
        if (stall && /^GET \S*\/events[?\s]/.test(chunk.toString('latin1', 0, 200))) {
          this.stall = undefined;
          client.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
          stall.answered();
          stripHead = Buffer.alloc(0);
          setTimeout(() => upstream.write(chunk), stall.ms);
        } else upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!stripHead) return void client.write(chunk);
        // the client already has its headers: pass on only the (chunked) body
        stripHead = Buffer.concat([stripHead, chunk]);
        const end = stripHead.indexOf('\r\n\r\n');
        if (end < 0) return;
        const body = stripHead.subarray(end + 4);
        stripHead = undefined;
        client.write(body);
      });
    });
    return new Promise((resolve) => this.server!.listen(this.path, () => resolve()));
  }
  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
    fs.rmSync(this.path, { force: true });
  }
}

test.serial('a broken events stream and an engine that stops answering are survived', async (t) => {
  // two agents of one instance would take each other's containers for orphans
  await server?.stop('SIGKILL');
  await wipe();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-t9-inproc-'));
  tmpDirs.push(dir);
  proxy = new SocketProxy(path.join(dir, 'docker.sock'));
  await proxy.open();
  const agent = new Agent({ docker: new Dockerode({ socketPath: proxy.path }), heartbeatMs: 300 });
  const config = defaultConfig({
    dataDir: path.join(dir, 'data'),
    apiPort: 0,
    instance: slot.instance,
    podCIDR: slot.podCIDR,
    serviceCIDR: slot.serviceCIDR,
    clusterDNS: slot.clusterDNS,
    // the periodic relist must not be what heals: only the events stream's reconnect may
    resyncSchedule: '0 0 1 1 *',
    disabled: new Set(['scheduler', 'controllers', 'proxy', 'dns', 'ingress']),
  });
  inproc = await startServer(config, [agent], process.env.KUBELITE_TEST_LOG ? createLogger('debug') : silentLogger());
  const api = inproc.registry;
  const node = (await api.list<Node>(R.nodes)).items[0].metadata.name!;
  const getP = () => api.get<Pod>(R.pods, 'default', 'evt');
  await api.create<Pod>(R.pods, podManifest('evt', node, { containers: [{ name: 'app', image: 'kubelite/echo:1' }] }));
  await api.create<Pod>(R.pods, podManifest('gap', node, { containers: [{ name: 'app', image: 'kubelite/echo:1' }] }));
  const p = await waitFor(async () => {
    const x = await getP();
    return isReady(x) ? x : undefined;
  }, 30_000, 'evt Ready');
  const g = await waitFor(async () => {
    const x = await api.get<Pod>(R.pods, 'default', 'gap');
    return isReady(x) ? x : undefined;
  }, 30_000, 'gap Ready');

  // 1. the events stream breaks: it reconnects, and a container killed right after is replaced
  agent.interruptEvents();
  await new Promise((r) => setTimeout(r, 50));
  await docker().getContainer(dockerId(p!)).kill();
  const p2 = await waitFor(async () => {
    const x = await getP();
    return isReady(x) && dockerId(x) !== dockerId(p!) ? x : undefined;
  }, 20_000, 'a replacement after the events stream broke');
  t.is(cstatus(p2!)?.restartCount, 1);

  // 1b. the stream breaks again, and the container dies after the new stream's headers came but before
  // dockerd subscribed it (and after the relist that follows a reconnect has listed it running): only a
  // stream that resumes from its last event (since=) learns of that death; the periodic resync is off.
  const answered = proxy.stallNextEvents(1500);
  agent.interruptEvents();
  await waitFor(async () => Promise.race([answered.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]), 10_000, 'the agent to ask for a new events stream');
  await new Promise((r) => setTimeout(r, 400));
  await docker().getContainer(dockerId(g!)).kill();
  const g2 = await waitFor(async () => {
    const x = await api.get<Pod>(R.pods, 'default', 'gap');
    return isReady(x) && dockerId(x) !== dockerId(g!) ? x : undefined;
  }, 20_000, 'a replacement for a death between the headers of a new events stream and its subscription');
  t.is(cstatus(g2!)?.restartCount, 1);

  // 2. the engine stops answering: the node goes NotReady and says why
  await proxy.close();
  const notReady = await waitFor(async () => {
    const n = await api.get<Node>(R.nodes, undefined, node);
    const c = n.status?.conditions?.find((x) => x.type === 'Ready');
    return c?.status === 'False' ? c : undefined;
  }, 15_000, 'the node to turn NotReady');
  t.is(notReady!.reason, 'KubeletNotReady');
  t.regex(notReady!.message ?? '', /container runtime is down/);
  // meanwhile the container dies (we still reach the real engine)
  await docker().getContainer(dockerId(p2!)).kill();

  // 3. it comes back: Ready again, the missed death noticed, the container replaced
  await proxy.open();
  await waitFor(async () => {
    const n = await api.get<Node>(R.nodes, undefined, node);
    return n.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
  }, 15_000, 'the node to be Ready again');
  const p3 = await waitFor(async () => {
    const x = await getP();
    return isReady(x) && dockerId(x) !== dockerId(p2!) ? x : undefined;
  }, 20_000, 'a replacement after the engine came back');
  t.is(cstatus(p3!)?.restartCount, 2);
  t.is(p3!.status?.podIP, p!.status?.podIP);
});
