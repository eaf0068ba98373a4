// Counters from the data plane to the page: what each page is sent (only what changed), and the
// rates the page derives from successive samples.

import test from 'ava';
import { counterUpdate } from '../../../src/ui/counters-feed.js';
import { CounterBook } from '../../../src/ui/model/counters.js';
import { counterKey } from '../../../src/ui/wire.js';
import type { EndpointCounter } from '../../../src/netfilter/counters.js';

const c = (ns: string, ep: string, packets: number): EndpointCounter => ({ namespace: ns, service: 'web', port: 'http', protocol: 'TCP', endpoint: ep, packets, bytes: packets * 60 });

test('the first update is full and filtered by namespace; then only changes', (t) => {
  const first = counterUpdate(undefined, [c('default', '10.0.0.1:80', 5), c('other', '10.0.0.2:80', 7)], 'default');
  t.true(first.full);
  t.deepEqual(first.items, [['default', 'web', 'http', 'TCP', '10.0.0.1:80', 5, 300]]);
  const same = counterUpdate(first.next, [c('default', '10.0.0.1:80', 5)], 'default');
  t.false(same.full);
  t.deepEqual(same.items, []);
  const more = counterUpdate(same.next, [c('default', '10.0.0.1:80', 9), c('default', '10.0.0.3:80', 1)], 'default');
  t.false(more.full);
  t.is(more.items.length, 2);
  // An endpoint that went away makes a full update, so the page forgets it.
  const gone = counterUpdate(more.next, [c('default', '10.0.0.3:80', 1)], 'default');
  t.true(gone.full);
  t.deepEqual(gone.items.map((i) => i[4]), ['10.0.0.3:80']);
  t.is(counterUpdate(undefined, [c('a', 'x:1', 1), c('b', 'y:1', 1)], '').items.length, 2, "'' is every namespace");
});

test('the page: totals, a smoothed rate, counter resets', (t) => {
  const book = new CounterBook();
  const k = counterKey('default', 'web', 'http', 'TCP', '10.0.0.1:80');
  const status = { ok: true };
  book.apply({ at: 1000, full: true, items: [['default', 'web', 'http', 'TCP', '10.0.0.1:80', 100, 6000]], status });
  t.deepEqual(book.sum([k]), { packets: 100, bytes: 6000, rate: 0 });
  book.apply({ at: 2000, full: false, items: [['default', 'web', 'http', 'TCP', '10.0.0.1:80', 110, 6600]], status });
  t.is(book.sum([k]).packets, 110);
  t.is(book.sum([k]).rate.toFixed(6), '6.000000', '0.6 x 10/s');
  book.apply({ at: 3000, full: false, items: [], status });
  t.is(book.sum([k]).rate.toFixed(6), '2.400000', 'nothing new: it decays');
  book.apply({ at: 4000, full: false, items: [['default', 'web', 'http', 'TCP', '10.0.0.1:80', 4, 240]], status });
  t.is(book.sum([k]).packets, 4, 'a rewritten rule starts from zero');
  t.true(book.sum([k]).rate > 2.4);
  book.apply({ at: 5000, full: true, items: [], status: { ok: false, reason: 'iptables-save failed' } });
  t.deepEqual(book.sum([k]), { packets: 0, bytes: 0, rate: 0 });
  t.deepEqual(book.status, { ok: false, reason: 'iptables-save failed' });
});
