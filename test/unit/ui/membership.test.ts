// Why a Pod is or is not in a Service, in the words the page shows.

import test from 'ava';
import { explainMembership, matchSelector, notReadyReason } from '../../../src/ui/model/membership.js';
import { slimEvent, slimPod, slimService, slimSlice } from '../../../src/ui/slim.js';
import { event, pod, service, slice } from './fixtures.js';

const svc = slimService(service('my-backend', { clusterIP: '10.96.0.20', selector: { app: 'my-backend' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));

test('selector matching reports what matched and what is missing', (t) => {
  t.deepEqual(matchSelector({ app: 'a', tier: 'web' }, { app: 'a', tier: 'db' }), { matches: false, matched: [['app', 'a']], missing: [{ key: 'tier', want: 'web', have: 'db' }] });
  t.deepEqual(matchSelector({ app: 'a' }, {}).missing, [{ key: 'app', want: 'a' }]);
  t.false(matchSelector(undefined, { app: 'a' }).matches, 'no selector selects nothing');
  t.false(matchSelector({ constructor: 'x' }, {}).matches, 'prototype keys are not labels');
});

test('in and Ready', (t) => {
  const p = pod('a', { ip: '10.244.0.5' });
  const eps = slimSlice(slice('my-backend', [{ pod: p }])).endpoints;
  t.deepEqual(explainMembership(svc, slimPod(p), eps, []), { member: true, state: 'ready', text: 'labels match (app=my-backend), Ready: gets traffic' });
});

test('labels match, not Ready: the readiness probe failure from the Pod\'s Events', (t) => {
  const p = pod('a', { ip: '10.244.0.5', ready: false });
  const eps = slimSlice(slice('my-backend', [{ pod: p, ready: false }])).endpoints;
  const evs = [
    event(p, 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 500', 5), // before the Ready change: stale
    event(p, 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', 30),
    event(p, 'Unhealthy', 'Liveness probe failed: connect ECONNREFUSED', 40),
    event(pod('other', {}), 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 404', 50),
  ].map(slimEvent);
  const w = explainMembership(svc, slimPod(p), eps, evs);
  t.is(w.state, 'notready');
  t.true(w.member);
  t.is(w.text, 'labels match (app=my-backend), not Ready: Readiness probe failed: HTTP probe failed with statuscode: 503');
});

test('not Ready without Events: the container state, else the probe that has not passed', (t) => {
  t.is(notReadyReason(slimPod(pod('a', { ready: false, waiting: 'CrashLoopBackOff' })), []), 'container echo: CrashLoopBackOff');
  t.is(notReadyReason(slimPod(pod('a', { ready: false })), []), 'container echo: readiness probe (HTTP GET :http/ready every 2s) has not passed yet');
  t.is(notReadyReason(slimPod(pod('a', { ready: false, phase: 'Pending', ip: '' })), []), 'Pending');
  t.is(notReadyReason(slimPod(pod('a', { deleting: true })), []), 'the Pod is being deleted');
});

test('out: labels do not match, and says which', (t) => {
  const p = pod('f', { labels: { app: 'frontend' } });
  const w = explainMembership(svc, slimPod(p), [], []);
  t.deepEqual(w, { member: false, state: 'excluded', text: 'labels do not match: app=my-backend wanted, the Pod has app=frontend' });
  t.is(explainMembership(svc, slimPod(pod('n', { labels: {} })), [], []).text, 'labels do not match: app=my-backend wanted, the Pod has no app label');
});

test('labels match but no endpoint yet, terminating, finished', (t) => {
  t.is(explainMembership(svc, slimPod(pod('a', { ip: '', phase: 'Pending', ready: false })), [], []).text, 'labels match (app=my-backend), not an endpoint yet: the Pod has no IP (Pending)');
  const dying = pod('d', { ip: '10.244.0.7', deleting: true });
  const eps = slimSlice(slice('my-backend', [{ pod: dying, ready: false, terminating: true }])).endpoints;
  t.is(explainMembership(svc, slimPod(dying), eps, []).state, 'terminating');
  t.is(explainMembership(svc, slimPod(pod('done', { phase: 'Succeeded', ready: false })), [], []).state, 'excluded');
});

test('ExternalName and selector-less Services', (t) => {
  const ext = slimService(service('stripe', { type: 'ExternalName', externalName: 'api.stripe.com' }));
  t.regex(explainMembership(ext, slimPod(pod('a')), [], []).text, /DNS alias/);
  const manual = slimService(service('manual', { clusterIP: '10.96.0.30', ports: [{ name: '', port: 80, protocol: 'TCP' }] }));
  const p = pod('a', { ip: '10.244.0.5' });
  t.is(explainMembership(manual, slimPod(p), slimSlice(slice('manual', [{ pod: p }])).endpoints, []).text, 'listed by hand (the Service has no selector), Ready: gets traffic');
  t.is(explainMembership(manual, slimPod(pod('b')), [], []).state, 'excluded');
});
