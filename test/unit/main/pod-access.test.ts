import test from 'ava';
import { podAccessPlan, podGateway } from '../../../src/main/pod-access.js';

test('where Pods reach the API', (t) => {
  t.is(podGateway('10.244.0.0/16'), '10.244.0.1');
  t.deepEqual(podAccessPlan({ bindAddress: '127.0.0.1', podCIDR: '10.244.0.0/16', agentEnabled: true }), { extraListen: '10.244.0.1', endpointIP: '10.244.0.1' });
  t.deepEqual(podAccessPlan({ bindAddress: '127.0.0.1', podCIDR: '10.244.0.0/16', agentEnabled: false }), {});
  t.deepEqual(podAccessPlan({ bindAddress: '0.0.0.0', podCIDR: '10.200.3.0/24', agentEnabled: true }), { endpointIP: '10.200.3.1' });
  t.deepEqual(podAccessPlan({ bindAddress: '192.0.2.10', podCIDR: '10.244.0.0/16', agentEnabled: true }), { endpointIP: '192.0.2.10' });
});
