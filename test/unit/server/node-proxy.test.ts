// Where the API server sends a Pod stream of another node: its kubelet endpoint from the Node object.

import test from 'ava';
import type { Node } from '../../../src/api/types.js';
import { kubeletTargetOf, podStreamOf } from '../../../src/server/node-proxy.js';

test('a node\'s kubelet endpoint: its InternalIP and published port', (t) => {
  const n = (port: number, ip?: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1' }, spec: {}, status: { addresses: ip ? [{ type: 'Hostname', address: 'w1' }, { type: 'InternalIP', address: ip }] : [], daemonEndpoints: { kubeletEndpoint: { Port: port } } } });
  t.deepEqual(kubeletTargetOf(n(10250, '10.0.0.5')), { node: 'w1', host: '10.0.0.5', port: 10250 });
  t.regex((kubeletTargetOf(n(0, '10.0.0.5')) as { error: string }).error, /serves no kubelet endpoint/);
  t.regex((kubeletTargetOf(n(10250)) as { error: string }).error, /no InternalIP/);
});

test('Pod stream paths: log, exec, attach, portforward; nothing else', (t) => {
  t.deepEqual(podStreamOf('/api/v1/namespaces/ns/pods/p/exec?command=ls'), { namespace: 'ns', name: 'p', subresource: 'exec' });
  t.deepEqual(podStreamOf('/api/v1/namespaces/ns/pods/p/portforward'), { namespace: 'ns', name: 'p', subresource: 'portforward' });
  t.is(podStreamOf('/api/v1/namespaces/ns/pods/p/status'), undefined);
  t.is(podStreamOf('/api/v1/namespaces/ns/pods/p'), undefined);
  t.is(podStreamOf('/apis/apps/v1/namespaces/ns/deployments/d/scale'), undefined);
  t.is(podStreamOf(undefined), undefined);
});
