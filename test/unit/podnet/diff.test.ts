// From the kernel's state to the plan: only our routes and device change, deletes first, nothing when equal.

import test from 'ava';
import { diffPodNetwork, type KernelState } from '../../../src/podnet/diff.js';
import { planPodNetwork, vtepMAC, type SelfNode } from '../../../src/podnet/plan.js';

const self: SelfNode = { name: 'a', ip: '10.64.255.10', podCIDR: '10.64.1.0/24', links: [{ dev: 'eth0', cidr: '10.64.255.10/24', mtu: 1500 }] };
const CLUSTER = '10.64.0.0/17';
const empty: KernelState = { routes: [], neighbours: [], fdb: [] };
const cmd = (c: { tool: string; args: string[] }) => `${c.tool} ${c.args.join(' ')}`;

test('host-gw from nothing: the blackhole and one route per peer; then nothing to do', (t) => {
  const plan = planPodNetwork(self, [{ name: 's', ip: '10.64.255.2', podCIDR: '10.64.0.0/24' }], 'auto', 'klvx', CLUSTER);
  t.deepEqual(diffPodNetwork(empty, plan, CLUSTER, 'klvx').map(cmd), [
    'ip route replace blackhole 10.64.0.0/17 metric 4242 proto 111',
    'ip route replace 10.64.0.0/24 via 10.64.255.2 dev eth0 proto 111',
  ]);
  const have: KernelState = { ...empty, routes: [{ type: 'blackhole', dst: '10.64.0.0/17', metric: 4242, onlink: false }, { dst: '10.64.0.0/24', via: '10.64.255.2', dev: 'eth0', onlink: false }] };
  t.deepEqual(diffPodNetwork(have, plan, CLUSTER, 'klvx'), []);
});

test('a peer gone: its route is deleted first; routes outside the pod CIDR are never touched', (t) => {
  const have: KernelState = {
    ...empty,
    routes: [
      { dst: '10.64.0.0/24', via: '10.64.255.2', dev: 'eth0', onlink: false },
      { dst: '10.64.7.0/24', via: '10.64.255.17', dev: 'eth0', onlink: false },
      { dst: '192.168.50.0/24', via: '10.64.255.3', dev: 'eth0', onlink: false },
    ],
  };
  const plan = planPodNetwork(self, [{ name: 's', ip: '10.64.255.2', podCIDR: '10.64.0.0/24' }], 'auto', 'klvx');
  t.deepEqual(diffPodNetwork(have, plan, CLUSTER, 'klvx').map(cmd), ['ip route del 10.64.7.0/24 proto 111']);
});

test('VXLAN from nothing: device, address, neighbour and FDB entries, then the route through it', (t) => {
  const plan = planPodNetwork(self, [{ name: 'far', ip: '172.16.0.9', podCIDR: '10.64.2.0/24' }], 'auto', 'klvx');
  t.deepEqual(diffPodNetwork(empty, plan, CLUSTER, 'klvx').map(cmd), [
    'ip link add klvx type vxlan id 1 dstport 8472 local 10.64.255.10 dev eth0 nolearning',
    `ip link set klvx address ${vtepMAC('10.64.255.10')} mtu 1450 up`,
    'ip addr replace 10.64.1.0/32 dev klvx',
    `ip neigh replace 10.64.2.0 lladdr ${vtepMAC('172.16.0.9')} dev klvx nud permanent`,
    `bridge fdb replace ${vtepMAC('172.16.0.9')} dev klvx dst 172.16.0.9 self permanent`,
    'ip route replace 10.64.2.0/24 via 10.64.2.0 dev klvx onlink proto 111',
  ]);
  // in place: only a stale neighbour and FDB entry go
  const have: KernelState = {
    routes: [{ dst: '10.64.2.0/24', via: '10.64.2.0', dev: 'klvx', onlink: true }],
    vxlan: { vni: 1, port: 8472, local: '10.64.255.10', link: 'eth0', mtu: 1450, mac: vtepMAC('10.64.255.10'), up: true, addresses: ['10.64.1.0/32'] },
    neighbours: [{ ip: '10.64.2.0', mac: vtepMAC('172.16.0.9'), permanent: true }, { ip: '10.64.9.0', mac: 'aa:bb:cc:dd:ee:ff', permanent: true }],
    fdb: [{ mac: vtepMAC('172.16.0.9'), dst: '172.16.0.9' }, { mac: 'aa:bb:cc:dd:ee:ff', dst: '172.16.0.99' }],
  };
  t.deepEqual(diffPodNetwork(have, plan, CLUSTER, 'klvx').map(cmd), ['ip neigh del 10.64.9.0 dev klvx', 'bridge fdb del aa:bb:cc:dd:ee:ff dev klvx dst 172.16.0.99 self']);
  // a device with the wrong VNI is made again; no VXLAN wanted: it goes
  t.true(diffPodNetwork({ ...have, vxlan: { ...have.vxlan!, vni: 7 } }, plan, CLUSTER, 'klvx').map(cmd).includes('ip link del klvx'));
  t.deepEqual(diffPodNetwork(have, { routes: [], neighbours: [], fdb: [], problems: [] }, CLUSTER, 'klvx').map(cmd), ['ip route del 10.64.2.0/24 proto 111', 'ip link del klvx']);
});
