// Issue 17 (4c, 16): a Pod's container stopped under it, seen through the API as clients see it. A
// `kubelite server` (slot 17) with only its agent; Pods bound straight to its node. A crashed container
// shows the Pod NotReady before the restart (a watch sees it), and a container or a sandbox removed
// with `docker rm -f` is replaced at once — on Docker's events, well before the agent's 30 s resync.
// Needs root and Docker; everything of instance t17 is removed afterwards.

import test from 'ava';
import type { Pod, WatchEvent } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { LABELS } from '../../src/agent/labels.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { dockerAvailable, dockerClient } from '../helpers/docker.js';
import { createPod, cstatus, dockerId, isReady, nodeName, podContainers, podManifest, waitPod } from './pods-helpers.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 17;
let server: TestServer | undefined;
let node = '';

function srv(): TestServer {
  if (!server) throw new Error('no server');
  return server;
}

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  // The default resync period (30 s): a repair seen well before the next one came from an event.
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'scheduler,controllers,proxy,dns,ingress'] });
  node = await nodeName(server);
});

test.after.always(async () => {
  await tearDownServer(server, SLOT);
});

/**
 * Waits until the last periodic resync (every 30 s, on :00 and :30) is over (3 s ago at least) and the
 * next one is 20 s away at least; returns when the next one runs. What is repaired before then was not
 * the periodic resync's doing.
 */
async function quietWindow(): Promise<number> {
  for (;;) {
    const now = Date.now();
    const since = now % 30_000;
    if (since >= 3000 && since <= 10_000) return now - since + 30_000;
    await new Promise((r) => setTimeout(r, (since < 3000 ? 3000 - since : 33_000 - since) + 50));
  }
}

/** Every version of the Pod a watch delivers, from now on. */
function watchPod(name: string): { seen: Pod[]; stop(): void } {
  const seen: Pod[] = [];
  const w = srv().client.watch<Pod>(R.pods, { namespace: 'default', fieldSelector: `metadata.name=${name}` }, {
    onEvent: (ev: WatchEvent<Pod>) => {
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') seen.push(ev.object);
    },
  });
  return { seen, stop: () => w.stop() };
}

test.serial('a container that crashes shows the Pod NotReady (through a watch) before it runs again', async (t) => {
  await createPod(srv(), podManifest('crashy', node, {}));
  const before = await waitPod(srv(), 'crashy', isReady, 'Ready');
  const oldId = dockerId(before);
  const w = watchPod('crashy');
  t.teardown(() => w.stop());
  await new Promise((r) => setTimeout(r, 200)); // the watch is established
  await dockerClient().getContainer(oldId).kill({ signal: 'SIGKILL' });
  const after = await waitPod(srv(), 'crashy', (p) => isReady(p) && dockerId(p) !== oldId, 'Ready with a new container');
  t.is(cstatus(after)?.restartCount, 1);
  // Give the watch the last event too.
  await new Promise((r) => setTimeout(r, 200));
  const sinceKill = w.seen.filter((p) => Number(p.metadata.resourceVersion) > Number(before.metadata.resourceVersion));
  const notReady = sinceKill.findIndex((p) => !isReady(p));
  t.true(notReady >= 0, `a watcher saw the Pod NotReady between the crash and the restart (saw ${sinceKill.map((p) => (isReady(p) ? 'Ready' : 'NotReady')).join(', ')})`);
  const between = sinceKill[notReady];
  t.is(cstatus(between)?.state?.terminated?.exitCode, 137, 'the stopped container is shown terminated');
  t.is(cstatus(between)?.restartCount, 0, 'the restart has not happened yet');
  t.is(between.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'ContainersNotReady');
  t.true(sinceKill.slice(notReady).some((p) => isReady(p) && cstatus(p)?.restartCount === 1), 'then Ready again after the restart');
});

test.serial("`docker rm -f` of a Pod's container: replaced at once (Docker's destroy event), not at the next resync", async (t) => {
  await createPod(srv(), podManifest('removed', node, {}));
  const before = await waitPod(srv(), 'removed', isReady, 'Ready');
  const resync = await quietWindow();
  const t0 = Date.now();
  await dockerClient().getContainer(dockerId(before)).remove({ force: true });
  const after = await waitPod(srv(), 'removed', (p) => isReady(p) && dockerId(p) !== '' && dockerId(p) !== dockerId(before), 'Ready with a new container', 60_000);
  t.log(`replaced in ${Date.now() - t0} ms`);
  t.true(Date.now() < resync, 'replaced before the periodic resync would have run');
  t.is(after.status?.podIP, before.status?.podIP, 'same sandbox, same IP');
  t.is(cstatus(after)?.restartCount, 1);
});

test.serial("`docker rm -f` of a Pod's sandbox: a new sandbox and container at once", async (t) => {
  await createPod(srv(), podManifest('nosandbox', node, {}));
  const before = await waitPod(srv(), 'nosandbox', isReady, 'Ready');
  const sandbox = (await podContainers(srv().slot.instance, 'nosandbox')).find((c) => c.Labels[LABELS.role] === 'infra')!;
  const resync = await quietWindow();
  const t0 = Date.now();
  await dockerClient().getContainer(sandbox.Id).remove({ force: true });
  const after = await waitPod(srv(), 'nosandbox', (p) => isReady(p) && dockerId(p) !== dockerId(before), 'Ready in a new sandbox', 60_000);
  t.log(`replaced in ${Date.now() - t0} ms`);
  t.true(Date.now() < resync, 'replaced before the periodic resync would have run');
  const now = await podContainers(srv().slot.instance, 'nosandbox');
  const infra = now.filter((c) => c.Labels[LABELS.role] === 'infra' && c.State === 'running');
  t.is(infra.length, 1);
  t.not(infra[0].Id, sandbox.Id);
  t.truthy(after.status?.podIP);
});
