import test from 'ava';
import { WorkQueue } from '../../../src/client/workqueue.js';

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('a key queued again while it runs runs once more afterwards, never twice at once', async (t) => {
  let running = 0;
  let max = 0;
  let runs = 0;
  const q = new WorkQueue(
    async () => {
      runs++;
      running++;
      max = Math.max(max, running);
      if (runs === 1) q.add('a');
      await tick(5);
      running--;
    },
    { name: 'test', workers: 4 },
  );
  q.start();
  q.add('a');
  await tick(1);
  q.add('a'); // while it runs: one more run, not a second worker
  await q.idle();
  t.is(runs, 2);
  t.is(max, 1);
  q.stop();
});

test('a handler that needs no I/O and queues its own key every time does not starve timers and sockets', async (t) => {
  // It used to run again in the same chain of promise callbacks: nothing else ever ran, and a timer
  // set before it started never fired (the node lifecycle controller did this after a stall).
  let runs = 0;
  const q = new WorkQueue(
    async (key) => {
      runs++;
      q.add(key);
    },
    { name: 'test', workers: 1 },
  );
  q.start();
  q.add('spin');
  await tick(20);
  q.stop();
  t.true(runs > 1, `the key ran ${runs} times`);
});

test('idle() waits for a key that is about to run again', async (t) => {
  let runs = 0;
  const q = new WorkQueue(
    async (key) => {
      runs++;
      if (runs < 3) q.add(key);
    },
    { name: 'test', workers: 1 },
  );
  q.start();
  q.add('k');
  await q.idle();
  t.is(runs, 3);
  q.stop();
});
