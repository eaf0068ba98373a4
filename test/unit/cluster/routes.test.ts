// Host routes of a cluster, planned from `ip -j route` output: added via the node on the cluster's own
// bridge, deleted only when they go through that bridge.

import test from 'ava';
import { parseIpRoutes, parseRouteGet, planRouteAdds, planRouteDeletes, probeAddresses, routedRanges } from '../../../src/cluster/routes.js';
import { routeStaysLocal } from '../../../src/dns/lookup.js';

const cidrs = { podCIDR: '10.233.0.0/17', serviceCIDR: '10.233.128.0/18', lbPool: '10.233.192.0/24', nodeCIDR: '10.233.255.0/24' };
const IP_JSON = JSON.stringify([
  { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', flags: [] },
  { dst: '172.17.0.0/16', dev: 'docker0', protocol: 'kernel', scope: 'link', prefsrc: '172.17.0.1', flags: ['linkdown'] },
  { dst: '10.233.0.0/17', gateway: '10.233.255.2', dev: 'klc-t27', flags: [] },
  { dst: '10.233.255.0/24', dev: 'klc-t27', protocol: 'kernel', scope: 'link', prefsrc: '10.233.255.1', flags: [] },
  { dst: '10.96.0.10', dev: 'klsvc', flags: [] },
]);

test('ip -j route output parses, host routes as /32', (t) => {
  const r = parseIpRoutes(IP_JSON);
  t.deepEqual(r[0], { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', protocol: undefined });
  t.is(r[4].dst, '10.96.0.10/32');
  t.deepEqual(parseIpRoutes(''), []);
  t.deepEqual(
    routedRanges(r).map((x) => x.cidr),
    ['172.17.0.0/16', '10.233.0.0/17', '10.233.255.0/24', '10.96.0.10/32'],
  );
});

test('adds: only the missing routes, via the node on the cluster bridge', (t) => {
  const adds = planRouteAdds(parseIpRoutes(IP_JSON), { cidrs, via: '10.233.255.2', bridge: 'klc-t27' });
  t.deepEqual(adds, [
    ['route', 'replace', '10.233.128.0/18', 'via', '10.233.255.2', 'dev', 'klc-t27'],
    ['route', 'replace', '10.233.192.0/24', 'via', '10.233.255.2', 'dev', 'klc-t27'],
  ]);
});

test('adds: a range the host routes elsewhere is refused', (t) => {
  const routes = parseIpRoutes(JSON.stringify([{ dst: '10.233.128.0/18', dev: 'wg0' }]));
  t.throws(() => planRouteAdds(routes, { cidrs, via: '10.233.255.2', bridge: 'klc-t27' }), { message: /already routes 10.233.128.0\/18 via wg0/ });
  t.throws(() => planRouteAdds([], { cidrs, via: 'x; rm -rf /', bridge: 'klc-t27' }), { message: /not an IPv4 address/ });
});

test('deletes: only routes through the cluster\'s own bridge', (t) => {
  const routes = parseIpRoutes(
    JSON.stringify([
      { dst: '10.233.0.0/17', gateway: '10.233.255.2', dev: 'klc-t27' },
      { dst: '10.233.128.0/18', gateway: '10.9.9.9', dev: 'klc-other' },
      { dst: '10.233.192.0/24', gateway: '10.233.255.2', dev: 'klc-t27' },
      { dst: '10.96.0.0/12', dev: 'klsvc' },
    ]),
  );
  t.deepEqual(planRouteDeletes(routes, cidrs, 'klc-t27'), [
    ['route', 'del', '10.233.0.0/17', 'dev', 'klc-t27'],
    ['route', 'del', '10.233.192.0/24', 'dev', 'klc-t27'],
  ]);
});

test('route get and probe addresses', (t) => {
  t.deepEqual(parseRouteGet(JSON.stringify([{ dst: '10.233.128.1', gateway: '10.233.255.2', dev: 'klc-t27', prefsrc: '10.233.255.1' }])), { dev: 'klc-t27', gateway: '10.233.255.2' });
  t.deepEqual(probeAddresses(cidrs), ['10.233.0.1', '10.233.128.1', '10.233.192.1']);
});

test('kubelite dns lookup counts a cluster bridge route as staying on the host', (t) => {
  t.true(routeStaysLocal({ dev: 'klc-t27', gateway: '10.233.255.2' }));
  t.false(routeStaysLocal({ dev: 'eth0', gateway: '192.0.2.1' }));
});
