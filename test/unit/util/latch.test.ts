import test from 'ava';
import { Latch } from '../../../src/util/latch.js';

test('a latch opens once; waiting afterwards answers at once; a later fail changes nothing', async (t) => {
  const l = new Latch();
  t.false(l.settled);
  let opened = false;
  const waiting = l.promise.then(() => (opened = true));
  await new Promise((r) => setImmediate(r));
  t.false(opened);
  l.open();
  l.fail(new Error('too late'));
  await waiting;
  t.true(opened);
  t.true(l.settled);
  await t.notThrowsAsync(l.promise);
});

test('a failed latch gives its reason to every waiter, and is no unhandled rejection when nobody waits', async (t) => {
  const nobody = new Latch();
  nobody.fail(new Error('unwatched'));
  const l = new Latch();
  l.fail(new Error('the agent did not start'));
  l.open();
  await t.throwsAsync(l.promise, { message: 'the agent did not start' });
  await new Promise((r) => setTimeout(r, 10));
});
