// The agent's Pod IP choice (src/agent/ipam.ts).

import test from 'ava';
import { PodIPAM } from '../../../src/agent/ipam.js';

test('addresses go round the range after the gateway, skipping used and pending ones', (t) => {
  const ipam = new PodIPAM('10.200.18.0/29'); // .2 - .6
  const used = new Set(['10.200.18.3']);
  t.is(ipam.pick(used), '10.200.18.2');
  t.is(ipam.pick(used), '10.200.18.4', '.2 pending, .3 used');
  t.is(ipam.pick(used), '10.200.18.5');
  t.is(ipam.pick(used), '10.200.18.6');
  t.is(ipam.pick(used), undefined, 'full: .2 .4 .5 .6 pending, .3 used');
  ipam.release('10.200.18.2');
  t.is(ipam.pick(used), '10.200.18.2', 'wraps round to the released one');
});

test('a freed address is not the next one handed out (round robin, as Docker does)', (t) => {
  const ipam = new PodIPAM('10.200.18.0/24');
  const a = ipam.pick(new Set())!;
  ipam.release(a);
  const b = ipam.pick(new Set())!;
  t.not(b, a);
  t.is(b, '10.200.18.3');
});
