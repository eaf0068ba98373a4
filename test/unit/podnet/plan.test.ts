// The pod network across hosts: host routes to nodes on a shared link, VXLAN (flannel's layout) to
// the others or when asked for, problems named per node.

import test from 'ava';
import type { Node } from '../../../src/api/types.js';
import { networkAddress, peerOf, planPodNetwork, sharedLink, vtepMAC, type SelfNode } from '../../../src/podnet/plan.js';

const self: SelfNode = { name: 'a', ip: '10.64.255.10', podCIDR: '10.64.1.0/24', links: [{ dev: 'eth0', cidr: '10.64.255.10/24', mtu: 1500 }, { dev: 'eth1', cidr: '192.168.9.5/24', mtu: 9000 }] };
const peer = (name: string, ip: string, podCIDR: string) => ({ name, ip, podCIDR });

test('VTEP MACs are locally administered unicast and follow the address', (t) => {
  t.is(vtepMAC('10.64.255.10'), '0e:6b:0a:40:ff:0a');
  t.not(vtepMAC('10.64.255.10'), vtepMAC('10.64.255.11'));
  t.is(Number.parseInt(vtepMAC('1.2.3.4').slice(0, 2), 16) & 0x03, 0x02);
  t.is(networkAddress('10.64.3.0/24'), '10.64.3.0');
});

test('a peer on a shared link gets a host route (host-gw); itself and broken peers get none', (t) => {
  t.is(sharedLink(self.links, '10.64.255.2')?.dev, 'eth0');
  t.is(sharedLink(self.links, '172.16.0.1'), undefined);
  const plan = planPodNetwork(self, [peer('a', '10.64.255.10', '10.64.1.0/24'), peer('s', '10.64.255.2', '10.64.0.0/24'), peer('z', '10.64.255.99', '10.64.1.0/24')], 'auto', 'klvx', '10.64.0.0/17');
  t.deepEqual(plan.routes, [{ dst: '10.64.0.0/24', via: '10.64.255.2', dev: 'eth0', onlink: false }]);
  t.is(plan.vxlan, undefined);
  t.is(plan.blackhole, '10.64.0.0/17');
  t.deepEqual(plan.problems, [{ node: 'z', message: 'its pod CIDR 10.64.1.0/24 is this node\'s too' }]);
});

test('auto: VXLAN for a peer beyond our links; --pod-network vxlan for all; host-gw refuses unreachable peers', (t) => {
  const peers = [peer('s', '10.64.255.2', '10.64.0.0/24'), peer('far', '172.16.0.9', '10.64.2.0/24')];
  const auto = planPodNetwork(self, peers, 'auto', 'klvx');
  t.deepEqual(auto.routes, [
    { dst: '10.64.0.0/24', via: '10.64.255.2', dev: 'eth0', onlink: false },
    { dst: '10.64.2.0/24', via: '10.64.2.0', dev: 'klvx', onlink: true },
  ]);
  t.deepEqual(auto.vxlan, { dev: 'klvx', vni: 1, port: 8472, link: 'eth0', local: '10.64.255.10', mtu: 1450, mac: vtepMAC('10.64.255.10'), address: '10.64.1.0/32' });
  t.deepEqual(auto.neighbours, [{ ip: '10.64.2.0', mac: vtepMAC('172.16.0.9') }]);
  t.deepEqual(auto.fdb, [{ mac: vtepMAC('172.16.0.9'), dst: '172.16.0.9' }]);
  const vx = planPodNetwork(self, peers, 'vxlan', 'klvx');
  t.deepEqual(vx.routes.map((r) => `${r.dst} via ${r.via} dev ${r.dev}${r.onlink ? ' onlink' : ''}`), ['10.64.2.0/24 via 10.64.2.0 dev klvx onlink', '10.64.0.0/24 via 10.64.0.0 dev klvx onlink']);
  const hg = planPodNetwork(self, peers, 'host-gw', 'klvx');
  t.deepEqual(hg.routes.map((r) => r.dst), ['10.64.0.0/24']);
  t.regex(hg.problems[0].message, /--pod-network host-gw: its address 172\.16\.0\.9 is on none of this host's links/);
  // without a pod CIDR of our own (no agent here) there is no VXLAN end of ours
  const none = planPodNetwork({ ...self, podCIDR: '' }, peers, 'auto', 'klvx');
  t.is(none.vxlan, undefined);
  t.deepEqual(none.routes.map((r) => r.dst), ['10.64.0.0/24']);
  t.regex(none.problems[0].message, /runs no agent/);
});

test('peers come from Nodes with a pod CIDR and an IPv4 InternalIP', (t) => {
  const n = (spec: Node['spec'], addresses?: NonNullable<NonNullable<Node['status']>['addresses']>): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'x' }, spec, status: { addresses } });
  t.deepEqual(peerOf(n({ podCIDR: '10.64.3.0/24' }, [{ type: 'Hostname', address: 'x' }, { type: 'InternalIP', address: '10.64.255.12' }])), { name: 'x', ip: '10.64.255.12', podCIDR: '10.64.3.0/24' });
  t.deepEqual(peerOf(n({})), { name: 'x', problem: 'it has no pod CIDR yet' });
  t.deepEqual(peerOf(n({ podCIDR: '10.64.3.0/24' }, [{ type: 'InternalIP', address: 'fd00::1' }])), { name: 'x', problem: 'it has no IPv4 InternalIP address' });
});
