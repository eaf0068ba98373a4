// Reading the host's links for the pod network planner.

import test from 'ava';
import { parseLinks } from '../../../src/podnet/ip.js';

test('links: IPv4 addresses per device, loopback and our own devices left out', (t) => {
  const rows = [
    { ifname: 'lo', mtu: 65536, addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    { ifname: 'eth0', mtu: 1500, addr_info: [{ family: 'inet', local: '10.64.255.10', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
    { ifname: 'kl0', mtu: 1500, addr_info: [{ family: 'inet', local: '10.64.1.1', prefixlen: 24 }] },
  ];
  t.deepEqual(parseLinks(rows, (d) => d.startsWith('kl')), [{ dev: 'eth0', cidr: '10.64.255.10/24', mtu: 1500 }]);
});
