// Per-object serialisation of registry writes: one holder per key, keys independent, entries freed.

import test from 'ava';
import { KeyLock } from '../../../src/server/key-lock.js';

test('holders of one key run one at a time, in arrival order; other keys are not held up', async (t) => {
  const lock = new KeyLock();
  const order: string[] = [];
  let releaseFirst!: () => void;
  const first = lock.run('a', async () => {
    order.push('a1 start');
    await new Promise<void>((r) => (releaseFirst = r));
    order.push('a1 end');
  });
  const second = lock.run('a', async () => {
    order.push('a2');
  });
  const other = lock.run('b', async () => {
    order.push('b');
  });
  await other;
  t.deepEqual(order, ['a1 start', 'b']);
  releaseFirst();
  await Promise.all([first, second]);
  t.deepEqual(order, ['a1 start', 'b', 'a1 end', 'a2']);
  t.is(lock.size, 0);
});

test('a holder that throws releases the key', async (t) => {
  const lock = new KeyLock();
  await t.throwsAsync(lock.run('k', async () => {
    throw new Error('boom');
  }));
  t.is(await lock.run('k', async () => 7), 7);
  t.is(lock.size, 0);
});
