// The server's component start order (src/main/start-order.ts): prerequisites first, the rest side by side.

import test from 'ava';
import type { Component } from '../../../src/server/component.js';
import { startComponents, startPlan } from '../../../src/main/start-order.js';

const comp = (name: string, dependsOn?: string[]): Component => ({ name, dependsOn, start: async () => undefined, stop: async () => undefined });

test('without dependsOn a component waits for every one listed before it; with it, only for those named', (t) => {
  t.deepEqual(startPlan([comp('a'), comp('b'), comp('c')]), [[], [0], [0, 1]]);
  t.deepEqual(startPlan([comp('services'), comp('agent', ['services']), comp('dns', ['services']), comp('x')]), [[], [0], [0], [0, 1, 2]]);
});

test('a prerequisite that is not in the list (disabled) is ignored; one listed after its dependant is refused', (t) => {
  t.deepEqual(startPlan([comp('dns', ['services'])]), [[]]);
  t.throws(() => startPlan([comp('a', ['b']), comp('b')]), { message: /depends on b, which is listed after it/ });
});

test('independent components start together, each after its prerequisites', async (t) => {
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  const start = (c: Component) =>
    new Promise<void>((resolve) => {
      events.push(`start ${c.name}`);
      gates.set(c.name, () => {
        events.push(`done ${c.name}`);
        resolve();
      });
    });
  const all = startComponents([comp('services'), comp('agent', ['services']), comp('dns', ['services'])], start);
  await new Promise((r) => setImmediate(r));
  t.deepEqual(events, ['start services'], 'nothing else before services has started');
  gates.get('services')!();
  await new Promise((r) => setImmediate(r));
  t.deepEqual(events, ['start services', 'done services', 'start agent', 'start dns'], 'agent and dns start side by side');
  gates.get('dns')!();
  gates.get('agent')!();
  await all;
});

test('after a failure nothing new starts, the ones running finish, and the first failure is reported', async (t) => {
  const started: string[] = [];
  let releaseSlow!: () => void;
  const list = [comp('services'), comp('bad', ['services']), comp('slow', ['services']), comp('late')];
  const p = startComponents(list, async (c) => {
    started.push(c.name);
    if (c.name === 'bad') throw new Error('bad failed');
    if (c.name === 'slow') await new Promise<void>((r) => (releaseSlow = r));
  });
  await new Promise((r) => setImmediate(r));
  releaseSlow();
  await t.throwsAsync(p, { message: 'bad failed' });
  t.deepEqual(started, ['services', 'bad', 'slow'], "'late' waits for all before it and never starts");
});
