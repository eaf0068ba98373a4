// Reading clusters back from Docker's labels: nodes, network, volumes, ranges; objects with wrong or
// foreign labels are left out.

import test from 'ava';
import { clustersFromDocker, serverNode } from '../../../src/cluster/record.js';

const labels = (cluster: string, extra: Record<string, string> = {}) => ({
  'io.kubelite.cluster': cluster,
  'io.kubelite.cluster.pod-cidr': '10.64.0.0/17',
  'io.kubelite.cluster.service-cidr': '10.64.128.0/18',
  'io.kubelite.cluster.lb-pool': '10.64.192.0/24',
  'io.kubelite.cluster.node-cidr': '10.64.255.0/24',
  ...extra,
});

test('a cluster from its container, network and volume', (t) => {
  const [c] = clustersFromDocker(
    [
      {
        id: 'c1',
        name: 'kubelite-dev-server-0',
        state: 'running',
        status: 'Up 1 minute',
        labels: labels('dev', { 'io.kubelite.cluster.role': 'server', 'io.kubelite.cluster.index': '0', 'io.kubelite.cluster.api-published': '127.0.0.1:7443' }),
        addresses: { 'kubelite-dev-net': '10.64.255.2' },
        created: 100,
      },
    ],
    [{ id: 'n1', name: 'kubelite-dev-net', labels: labels('dev', { 'io.kubelite.cluster.bridge': 'klc-dev' }) }],
    [{ name: 'kubelite-dev-server-0-docker', labels: { 'io.kubelite.cluster': 'dev' } }],
  );
  t.is(c.name, 'dev');
  t.is(c.bridge, 'klc-dev');
  t.deepEqual(c.cidrs, { podCIDR: '10.64.0.0/17', serviceCIDR: '10.64.128.0/18', lbPool: '10.64.192.0/24', nodeCIDR: '10.64.255.0/24' });
  t.deepEqual(serverNode(c), { container: 'kubelite-dev-server-0', id: 'c1', role: 'server', index: 0, state: 'running', status: 'Up 1 minute', address: '10.64.255.2' });
  t.is(c.apiPublished, '127.0.0.1:7443');
  t.deepEqual(c.volumes, ['kubelite-dev-server-0-docker']);
});

test('objects whose name does not match their label are not the cluster\'s', (t) => {
  const clusters = clustersFromDocker(
    [
      { id: 'x', name: 'someone-else', state: 'running', status: '', labels: labels('dev', { 'io.kubelite.cluster.role': 'server', 'io.kubelite.cluster.index': '0' }), addresses: {}, created: 1 },
      { id: 'y', name: 'kubelite-dev-server-0', state: 'running', status: '', labels: labels('BAD NAME', { 'io.kubelite.cluster.role': 'server', 'io.kubelite.cluster.index': '0' }), addresses: {}, created: 1 },
    ],
    [{ id: 'n', name: 'kubelite', labels: labels('dev') }],
    [{ name: 'my-volume', labels: { 'io.kubelite.cluster': 'dev' } }],
  );
  t.deepEqual(clusters, []);
});

test('left-overs (a network without nodes) still make a cluster to delete', (t) => {
  const [c] = clustersFromDocker([], [{ id: 'n', name: 'kubelite-old-net', labels: labels('old') }]);
  t.is(c.name, 'old');
  t.is(serverNode(c), undefined);
  t.truthy(c.cidrs);
});
