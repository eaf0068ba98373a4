// The server's default components (src/main/components.ts): what reads this node's pod CIDR starts as
// soon as the agent has registered its Node, not after the agent's whole start.

import test from 'ava';
import type { Component, ComponentContext } from '../../../src/server/component.js';
import { defaultComponents, onNodeCIDR } from '../../../src/main/components.js';
import { defaultConfig } from '../../../src/config.js';
import { startPlan } from '../../../src/main/start-order.js';
import { Latch } from '../../../src/util/latch.js';

test('the proxy, DNS and the pod network do not wait for the agent\'s start: they start beside it', (t) => {
  const list = defaultComponents(defaultConfig({}));
  const plan = startPlan(list);
  const index = (n: string) => list.findIndex((c) => c.name === n);
  for (const name of ['proxy', 'dns', 'podnet']) {
    t.true(index(name) >= 0, name);
    t.false(plan[index(name)].includes(index('agent')), `${name} is not ordered after the agent`);
    t.true(plan[index(name)].includes(index('services')), `${name} starts after services`);
  }
});

function fake(): Component & { started: number } {
  return { name: 'fake', started: 0, async start() { this.started++; }, async stop() {} };
}

test('one of them starts when the node is registered, and fails with the agent\'s reason when it never is', async (t) => {
  const inner = fake();
  const c = onNodeCIDR('proxy', async () => inner);
  const latch = new Latch();
  const ctx = { nodeRegistered: latch } as unknown as ComponentContext;
  const starting = c.start(ctx);
  await new Promise((r) => setTimeout(r, 20));
  t.is(inner.started, 0, 'waits for the registration');
  latch.open();
  await starting;
  t.is(inner.started, 1);

  const never = fake();
  const failed = new Latch();
  const p = onNodeCIDR('dns', async () => never).start({ nodeRegistered: failed } as unknown as ComponentContext);
  failed.fail(new Error('the agent did not start: no Docker engine'));
  await t.throwsAsync(p, { message: /no Docker engine/ });
  t.is(never.started, 0);

  const alone = fake();
  await onNodeCIDR('dns', async () => alone).start({} as ComponentContext);
  t.is(alone.started, 1, 'without an agent nothing is awaited');
});
