// The pod network's two rules: forward Pod traffic Docker would drop, and no masquerade between Pods
// (what the proxier marked still gets it).

import test from 'ava';
import { chainRules, jumpRules, podNetChains } from '../../../src/podnet/rules.js';

test('chains, rules and jumps', (t) => {
  const chains = podNetChains('KUBELITE-T38');
  t.deepEqual(chains, { filterChain: 'KUBELITE-T38-PODNET', natChain: 'KUBELITE-T38-PODNET-NAT' });
  const r = { ...chains, clusterCIDR: '10.64.0.0/17', serviceCIDR: '10.96.0.0/16', mark: '0x4000' };
  const rules = chainRules(r).map((x) => `${x.table} ${x.chain} ${x.args.join(' ')}`);
  t.deepEqual(rules, [
    // A packet still addressed to a VIP was not DNATed: the proxier's reject (further down FORWARD) decides.
    'filter KUBELITE-T38-PODNET -d 10.96.0.0/16 -m comment --comment kubelite: Service VIPs are left to the proxier -j RETURN',
    'filter KUBELITE-T38-PODNET -s 10.64.0.0/17 -m comment --comment kubelite pod network -j ACCEPT',
    'filter KUBELITE-T38-PODNET -d 10.64.0.0/17 -m comment --comment kubelite pod network -j ACCEPT',
    'nat KUBELITE-T38-PODNET-NAT -m mark --mark 0x4000/0x4000 -m comment --comment kubelite: the proxier masquerades marked traffic -j RETURN',
    'nat KUBELITE-T38-PODNET-NAT -s 10.64.0.0/17 -d 10.64.0.0/17 -m comment --comment kubelite: no masquerade between Pods -j ACCEPT',
  ]);
  t.deepEqual(jumpRules(r, true).map((j) => `${j.table} ${j.chain}`), ['filter DOCKER-USER', 'nat POSTROUTING']);
  t.deepEqual(jumpRules(r, false).map((j) => `${j.table} ${j.chain}`), ['filter FORWARD', 'nat POSTROUTING']);
  for (const x of [...chainRules(r), ...jumpRules(r, true)]) for (const a of x.args) t.false(/[;$`|&]/.test(a), 'no shell syntax anywhere');
});
