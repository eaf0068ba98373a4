// The node lifecycle controller over an in-process API (no HTTP, no Docker): what happens after this
// process was stopped for a while. The decisions themselves are tested in logic/node-lifecycle.test.ts.

import test from 'ava';
import type { Node } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { NodeLifecycleController } from '../../../src/controllers/node-lifecycle.js';
import { node, startCluster } from './fixtures.js';

const GRACE_MS = 200;

function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // the whole process stopped, as a paused container is
  }
}

test('after a stall, a reconcile that runs before the monitor gives every node a fresh grace period, once, and the process keeps answering', async (t) => {
  const c = await startCluster([], { nodes: [node('n1'), node('n2')] });
  const ctrl = new NodeLifecycleController({ gracePeriodMs: GRACE_MS });
  t.teardown(async () => {
    await ctrl.stop();
    await c.stop();
  });
  await ctrl.start(c.ctx);
  await ctrl.idle();
  // Stopped for longer than the grace period: no Lease could change meanwhile. The node's key comes
  // in before the monitor's timer gets a turn (as a watch event or a due timer can, after a resume).
  busyWait(GRACE_MS + 150);
  ctrl.enqueue('n1');
  // A timer fires: the reconcile did not re-queue itself forever without yielding.
  await new Promise((r) => setTimeout(r, 10));
  await ctrl.idle();
  for (const name of ['n1', 'n2']) {
    const n = await c.registry.get<Node>(R.nodes, undefined, name);
    t.is(n.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True', `${name} is not held to blame for the stall`);
  }
});

test('a node that stays silent past the grace period goes Unknown (the stall rule does not hide real loss)', async (t) => {
  const c = await startCluster([], { nodes: [node('n1')] });
  const ctrl = new NodeLifecycleController({ gracePeriodMs: GRACE_MS });
  t.teardown(async () => {
    await ctrl.stop();
    await c.stop();
  });
  await ctrl.start(c.ctx);
  const deadline = Date.now() + 5000;
  let status: string | undefined;
  while (Date.now() < deadline) {
    const n = await c.registry.get<Node>(R.nodes, undefined, 'n1');
    status = n.status?.conditions?.find((x) => x.type === 'Ready')?.status;
    if (status === 'Unknown') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.is(status, 'Unknown');
});
