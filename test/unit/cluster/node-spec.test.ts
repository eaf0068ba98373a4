// What Docker is asked for when a node starts: its container (privileged or the capability set, the
// volume, fixed address, the kubelite command) and its network.

import test from 'ava';
import { checkServerArgs, networkSpec, nodeAddress, nodeContainerSpec, securityHostConfig, volumeSpec } from '../../../src/cluster/node-spec.js';

const cidrs = { podCIDR: '10.233.0.0/17', serviceCIDR: '10.233.128.0/18', lbPool: '10.233.192.0/24', nodeCIDR: '10.233.255.0/24' };
const base = {
  cluster: 't27',
  role: 'server' as const,
  index: 0,
  image: 'kubelite/cluster-node:0.1.0',
  cidrs,
  security: 'capabilities' as const,
  cgroupV2: false,
  address: '10.233.255.2',
  token: 'tok-0123456789abcdef',
  serverArgs: ['--upstream-dns', '127.0.0.1:1'],
};

test('the server node container', (t) => {
  const s = nodeContainerSpec(base);
  t.is(s.name, 'kubelite-t27-server-0');
  t.is(s.Hostname, 'kubelite-t27-server-0');
  t.deepEqual(s.Cmd, [
    'kubelite', 'server', '--bind-address', '0.0.0.0', '--api-port', '6443', '--node-name', 'kubelite-t27-server-0',
    '--pod-cidr', '10.233.0.0/17', '--service-cidr', '10.233.128.0/18', '--lb-pool', '10.233.192.0/24', '--upstream-dns', '127.0.0.1:1',
  ]);
  t.deepEqual(s.Env, ['KUBELITE_TOKEN=tok-0123456789abcdef', 'KUBELITE_POD_CIDR=10.233.0.0/17', 'KUBELITE_CLUSTER_NAME=t27']);
  t.is(s.Labels!['io.kubelite.cluster'], 't27');
  t.is(s.Labels!['io.kubelite.cluster.role'], 'server');
  t.deepEqual(s.HostConfig!.Mounts, [{ Type: 'volume', Source: 'kubelite-t27-server-0-docker', Target: '/var/lib/docker' }]);
  t.deepEqual(s.HostConfig!.CapAdd, ['ALL']);
  t.deepEqual(s.HostConfig!.CapDrop, ['SYS_RESOURCE']);
  t.deepEqual(s.HostConfig!.MaskedPaths, []);
  t.is(s.HostConfig!.PortBindings, undefined);
  t.is((s.HostConfig as { CgroupnsMode?: string }).CgroupnsMode, undefined);
  t.deepEqual(s.NetworkingConfig, { EndpointsConfig: { 'kubelite-t27-net': { IPAMConfig: { IPv4Address: '10.233.255.2' }, Aliases: ['kubelite-t27-server-0'] } } });
});

test('privileged, cgroup v2, published API and Docker API', (t) => {
  const s = nodeContainerSpec({ ...base, security: 'privileged', cgroupV2: true, apiPublish: ['127.0.0.1', 7443], dockerTcpPort: 2375 });
  t.true(s.HostConfig!.Privileged);
  t.is(s.HostConfig!.CapAdd, undefined);
  t.is((s.HostConfig as { CgroupnsMode?: string }).CgroupnsMode, 'private');
  t.deepEqual(s.HostConfig!.PortBindings, { '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '7443' }] });
  t.is(s.Labels!['io.kubelite.cluster.api-published'], '127.0.0.1:7443');
  t.true(s.Env!.includes('KUBELITE_DOCKER_TCP=2375'));
  t.deepEqual(securityHostConfig('privileged'), { Privileged: true });
});

test('flags the cluster owns cannot be passed through --server-arg', (t) => {
  t.throws(() => checkServerArgs(['--pod-cidr', '10.0.0.0/16']), { message: /--server-arg --pod-cidr: set by kubelite cluster itself/ });
  t.throws(() => checkServerArgs(['--token-file=/x']), { message: /--token-file/ });
  t.deepEqual(checkServerArgs(['--log-level', 'debug']), ['--log-level', 'debug']);
  t.throws(() => nodeContainerSpec({ ...base, role: 'agent' }), { message: /kubelite agent/ });
});

test('the network: our bridge name, our subnet, the ranges as labels', (t) => {
  const n = networkSpec({ cluster: 't27', cidrs });
  t.is(n.Name, 'kubelite-t27-net');
  t.deepEqual(n.Options, { 'com.docker.network.bridge.name': 'klc-t27' });
  t.deepEqual(n.IPAM, { Driver: 'default', Config: [{ Subnet: '10.233.255.0/24', Gateway: '10.233.255.1' }] });
  t.is(n.Labels!['io.kubelite.cluster.service-cidr'], '10.233.128.0/18');
  t.deepEqual(volumeSpec('t27', 'kubelite-t27-server-0'), { Name: 'kubelite-t27-server-0-docker', Labels: { 'io.kubelite.cluster': 't27' } });
});

test('node addresses: the server at .2, agents from .10', (t) => {
  t.is(nodeAddress('10.233.255.0/24', 'server', 0), '10.233.255.2');
  t.is(nodeAddress('10.233.255.0/24', 'agent', 1), '10.233.255.11');
  t.throws(() => nodeAddress('10.233.255.0/29', 'agent', 0));
});
