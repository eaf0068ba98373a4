// The join request a server accepts, and the settings an agent takes over.

import test from 'ava';
import { defaultConfig } from '../../../src/config.js';
import { checkJoinRequest, clusterSettings, passwordHash, passwordSecretName } from '../../../src/main/join.js';

test('a join request: a DNS node name, a strong password, an IPv4 address; each problem named', (t) => {
  const ok = { nodeName: 'worker-1.lan', password: 'p'.repeat(43), nodeIP: '10.0.0.5' };
  t.deepEqual(checkJoinRequest(ok), ok);
  const err = t.throws(() => checkJoinRequest({ nodeName: 'Worker_1', password: 'short', nodeIP: 'x' }));
  t.regex(err!.message, /nodeName: .*DNS subdomain.*password: .*32-128.*nodeIP: .*IPv4/);
  t.throws(() => checkJoinRequest(undefined));
});

test('node passwords are kept hashed in a Secret named after the node', (t) => {
  t.is(passwordSecretName('w1'), 'w1.node-password.kubelite');
  t.regex(passwordHash('x'.repeat(40)), /^[0-9a-f]{64}$/);
  t.not(passwordHash('a'.repeat(40)), passwordHash('b'.repeat(40)));
});

test('an agent takes over the cluster\'s ranges, DNS and timings', (t) => {
  const s = clusterSettings(defaultConfig({ podCIDR: '10.64.0.0/17', serviceCIDR: '10.64.128.0/18', clusterDNS: '10.64.128.10', podNetwork: 'vxlan' }));
  t.like(s, { podCIDR: '10.64.0.0/17', serviceCIDR: '10.64.128.0/18', clusterDNS: '10.64.128.10', clusterDomain: 'cluster.local', podNetwork: 'vxlan', nodeCIDRMaskSize: 24, nodeLeaseRenewIntervalMs: 1000 });
  t.deepEqual(s.nodePortRange, [30000, 32767]);
});
