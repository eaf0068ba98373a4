// The runtime cache against a relist whose list is older than what events and syncs wrote meanwhile.

import test from 'ava';
import { RuntimeCache } from '../../../src/agent/runtime-cache.js';
import { app, sandbox } from './fixtures.js';

test('a list taken before an event does not undo it: a container seen exited stays exited', (t) => {
  const cache = new RuntimeCache();
  const sb = sandbox();
  const c = app('app', sb);
  cache.set(sb);
  cache.set(c);
  const mark = cache.mark();
  // the list is on its way (it still says running) when the die event's inspect lands
  const listed = [{ ...sb, inspected: false }, { ...c, inspected: false }];
  cache.set({ ...c, state: 'exited' });
  const r = cache.replaceAll(listed, mark);
  t.is(cache.get(c.id)?.state, 'exited');
  t.false(r.needInspect.includes(c.id));
  // without a mark (a list as new as the cache) the list wins, as before
  cache.replaceAll(listed);
  t.is(cache.get(c.id)?.state, 'running');
});

test('a container created after the list was asked for is kept; one destroyed meanwhile is not brought back', (t) => {
  const cache = new RuntimeCache();
  const sb = sandbox();
  const old = app('app', sb);
  cache.set(sb);
  cache.set(old);
  const mark = cache.mark();
  const listed = [{ ...sb, inspected: false }, { ...old, inspected: false }];
  // meanwhile: the old app container is destroyed (docker rm -f) and a sync creates its replacement
  cache.delete(old.id);
  const fresh = app('app', sb, { state: 'created' });
  cache.set(fresh);
  const r = cache.replaceAll(listed, mark);
  t.is(cache.get(old.id), undefined, 'the destroyed container is not resurrected by the older list');
  t.is(cache.get(fresh.id)?.state, 'created', 'the new container is not dropped for missing from the older list');
  t.false(r.needInspect.includes(old.id));
  // a later list settles both: the tombstone no longer blocks an id that (somehow) is listed again
  const r2 = cache.replaceAll([{ ...sb, inspected: false }, { ...fresh, state: 'running', inspected: false }], cache.mark());
  t.is(cache.get(fresh.id)?.state, 'running');
  t.deepEqual(r2.needInspect, [fresh.id]);
  t.deepEqual(cache.forPod('default/web').map((x) => x.id).sort(), [sb.id, fresh.id].sort());
});

test('a container gone from a list taken after its last write is dropped and its Pod re-synced', (t) => {
  const cache = new RuntimeCache();
  const sb = sandbox();
  const c = app('app', sb);
  cache.set(sb);
  cache.set(c);
  const r = cache.replaceAll([{ ...sb, inspected: false }], cache.mark());
  t.is(cache.get(c.id), undefined);
  t.deepEqual([...r.changedPods], ['default/web']);
});
