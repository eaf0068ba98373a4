// Picking a cluster's ranges: the first free /16 block, never the host kubelite's or the tests', never
// what the host routes or another cluster has; given ranges are checked.

import test from 'ava';
import { clusterDNS, layoutOfBlock, planClusterCIDRs } from '../../../src/cluster/cidrs.js';

test('the first cluster gets the first block, laid out', (t) => {
  t.deepEqual(planClusterCIDRs([]), { podCIDR: '10.64.0.0/17', serviceCIDR: '10.64.128.0/18', lbPool: '10.64.192.0/24', nodeCIDR: '10.64.255.0/24' });
  t.is(clusterDNS('10.64.128.0/18'), '10.64.128.10');
});

test('taken ranges (other clusters, host routes) push the pick to the next free block', (t) => {
  const taken = [
    { cidr: '10.64.0.0/17', why: 'cluster a' },
    { cidr: '10.65.3.0/24', why: 'a route on this host (dev eth1)' },
  ];
  t.deepEqual(planClusterCIDRs(taken), layoutOfBlock('10.66.0.0/16'));
});

test('a host resolver inside a block keeps the block free', (t) => {
  t.deepEqual(planClusterCIDRs([{ cidr: '10.64.200.53/32', why: "one of the host's DNS resolvers" }]).podCIDR, '10.65.0.0/17');
});

test('given ranges are used as they are, the rest picked around them', (t) => {
  const p = planClusterCIDRs([], { podCIDR: '10.233.0.0/17', serviceCIDR: '10.233.128.0/18' });
  t.is(p.podCIDR, '10.233.0.0/17');
  t.is(p.serviceCIDR, '10.233.128.0/18');
  t.is(p.lbPool, '10.64.192.0/24');
  const all = planClusterCIDRs([], { podCIDR: '10.233.0.0/17', serviceCIDR: '10.233.128.0/18', lbPool: '10.233.192.0/24', nodeCIDR: '10.233.255.0/24' });
  t.is(all.nodeCIDR, '10.233.255.0/24');
  t.is(planClusterCIDRs([], { lbPool: '10.233.192.5/24' }).lbPool, '10.233.192.0/24', 'normalized');
});

test('given ranges that collide are refused, naming whose they are', (t) => {
  t.throws(() => planClusterCIDRs([{ cidr: '10.64.0.0/17', why: 'cluster a' }], { podCIDR: '10.64.0.0/16' }), { message: '--pod-cidr 10.64.0.0/16 overlaps 10.64.0.0/17 (cluster a)' });
  t.throws(() => planClusterCIDRs([], { podCIDR: '10.233.0.0/16', serviceCIDR: '10.233.128.0/18' }), { message: /--pod-cidr 10.233.0.0\/16 overlaps --service-cidr/ });
  t.throws(() => planClusterCIDRs([], { serviceCIDR: '10.0.0.0/8' }), { message: /between \/12 and \/28/ });
  t.throws(() => planClusterCIDRs([], { podCIDR: 'nope' }), { message: /--pod-cidr: invalid CIDR/ });
  t.throws(() => planClusterCIDRs([], { lbPool: '127.0.0.0/24' }), { message: /not a unicast range/ });
});

test('the automatic pick never lands on the host kubelite\'s or the tests\' defaults', (t) => {
  const blocks = ['10.96.0.0/16', '10.244.0.0/16', '10.201.0.0/16', '10.251.0.0/16', '10.70.0.0/16'];
  t.deepEqual(planClusterCIDRs([], {}, blocks), layoutOfBlock('10.70.0.0/16'));
});

test('a full address plan says what to do', (t) => {
  const taken = [{ cidr: '10.64.0.0/11', why: 'a route on this host (dev vpn0)' }];
  t.throws(() => planClusterCIDRs(taken), { message: /no free address block left .* pass --pod-cidr, --service-cidr, --lb-pool and --node-cidr/ });
});
