// API objects -> the slim wire objects: only what the page shows, long strings capped.

import test from 'ava';
import { cap, MAX_VALUE, slim, slimIngress, slimPod, slimService, slimSlice } from '../../../src/ui/slim.js';
import { ingress, pod, service, slice } from './fixtures.js';

test('a Pod: owner, containers with their readiness probe, no last-applied annotation, long values capped', (t) => {
  const p = pod('web-1', { rs: 'web-rs', restarts: 2, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"huge": true}', note: 'n'.repeat(5000), '<b>x</b>': '<script>alert(1)</script>' } });
  const w = slimPod(p);
  t.deepEqual(w.meta.owner, { kind: 'ReplicaSet', name: 'web-rs', uid: 'uid-web-rs' });
  t.false('kubectl.kubernetes.io/last-applied-configuration' in w.meta.annotations);
  t.is(w.meta.annotations.note.length, MAX_VALUE + ' (4000 more characters)'.length + 1);
  t.is(w.meta.annotations['<b>x</b>'], '<script>alert(1)</script>', 'kept as text: the page renders it as text');
  t.is(w.containers[0].readinessProbe, 'HTTP GET :http/ready every 2s');
  t.is(w.containers[0].restarts, 2);
  t.is(w.containers[0].state, 'running');
  t.true(w.ready);
  t.is(w.node, 'node1');
});

test('cap says how much it cut', (t) => {
  t.is(cap('abc', 5), 'abc');
  t.is(cap('abcdef', 3), 'abc… (3 more characters)');
  t.is(cap(undefined), '');
});

test('EndpointSlice conditions: nil ready means ready; serving follows ready; terminating kept', (t) => {
  const a = pod('a', { ip: '10.0.0.1' });
  const s = slice('web', [{ pod: a }]);
  delete s.endpoints[0].conditions;
  t.deepEqual(slimSlice(s).endpoints[0], { ip: '10.0.0.1', ready: true, serving: true, terminating: false, node: 'node1', pod: 'a', podUid: 'uid-a' });
  const t2 = slice('web', [{ pod: a, ready: false, terminating: true }]);
  t.like(slimSlice(t2).endpoints[0], { ready: false, terminating: true });
  t.is(slimSlice(s).service, 'web');
});

test('a Service: type, selector, LoadBalancer addresses; ExternalName', (t) => {
  const s = slimService(service('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.2', selector: { app: 'x' }, ports: [{ port: 80, protocol: 'TCP', nodePort: 30001 }] }, 'default', ['10.202.0.9']));
  t.like(s, { type: 'LoadBalancer', clusterIP: '10.96.0.2', selector: { app: 'x' }, loadBalancerIPs: ['10.202.0.9'] });
  t.deepEqual(s.ports, [{ name: '', port: 80, protocol: 'TCP', nodePort: 30001 }]);
  const e = slimService(service('ext', { type: 'ExternalName', externalName: 'api.stripe.com' }));
  t.is(e.externalName, 'api.stripe.com');
  t.is(e.selector, undefined);
});

test('an Ingress: one path per rule and path, TLS hosts', (t) => {
  const w = slimIngress(ingress('demo', [{ host: 'a.test', path: '/api', service: 'api', port: 80 }], ['a.test']));
  t.deepEqual(w.paths, [{ host: 'a.test', path: '/api', pathType: 'Prefix', service: 'api', port: 80 }]);
  t.deepEqual(w.tlsHosts, ['a.test']);
});

test('kinds the page does not draw are not sent', (t) => {
  t.is(slim({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } }), undefined);
});
