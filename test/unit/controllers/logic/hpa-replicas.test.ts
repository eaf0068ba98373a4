// The HPA's replica calculator (replica_calculator.go's cases): the ratio to the target, the tolerance,
// unready and missing Pods, ignored ones, raw average values, and the errors upstream gives.

import test from 'ava';
import type { Pod } from '../../../../src/api/types.js';
import { MetricError, podRequests, rawResourceReplicas, resourceReplicas, type PodMetric } from '../../../../src/controllers/logic/hpa-replicas.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();
const MIN = 60_000;

interface P {
  phase?: 'Running' | 'Pending' | 'Failed';
  ready?: boolean;
  /** ms since the Pod started */
  started?: number;
  /** ms since the Ready condition last changed */
  readySince?: number;
  deleting?: boolean;
  cpu?: string;
  memory?: string;
  containers?: { name: string; cpu: string }[];
}

function pod(name: string, o: P = {}): Pod {
  const started = o.started ?? 10 * MIN;
  const containers = o.containers ?? [{ name: 'app', cpu: o.cpu ?? '100m' }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', deletionTimestamp: o.deleting ? iso(1000) : undefined },
    spec: { containers: containers.map((c) => ({ name: c.name, image: 'x', resources: { requests: { cpu: c.cpu, ...(o.memory ? { memory: o.memory } : {}) } } })) },
    status: {
      phase: o.phase ?? 'Running',
      startTime: iso(started),
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False', lastTransitionTime: iso(o.readySince ?? started - 1000) }],
    },
  };
}

const metric = (value: number, agoMs = 5000): PodMetric => ({ value, timestamp: NOW - agoMs, windowMs: 15_000 });
const metrics = (entries: [string, number][]) => new Map(entries.map(([n, v]) => [n, metric(v)]));

test('utilisation above target scales by the ratio, rounded up', (t) => {
  const pods = ['a', 'b', 'c'].map((n) => pod(n));
  // 3 Pods at 90m of 100m: 90% against 50% -> 3 * 1.8 = 5.4 -> 6.
  const r = resourceReplicas({ currentReplicas: 3, pods, metrics: metrics([['a', 90], ['b', 90], ['c', 90]]), resource: 'cpu', now: NOW, targetUtilization: 50 });
  t.is(r.replicas, 6);
  t.is(r.utilization, 90);
  t.is(r.rawAverage, 90);
  t.is(r.timestamp, NOW - 5000);
});

test('within the 10% tolerance nothing changes; just outside it does', (t) => {
  const pods = ['a', 'b'].map((n) => pod(n));
  t.is(resourceReplicas({ currentReplicas: 2, pods, metrics: metrics([['a', 54], ['b', 54]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 2);
  t.is(resourceReplicas({ currentReplicas: 2, pods, metrics: metrics([['a', 56], ['b', 56]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 3);
  t.is(resourceReplicas({ currentReplicas: 2, pods, metrics: metrics([['a', 10], ['b', 10]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 1);
});

test('deleted and failed Pods are ignored; Pods outside the selector do not count', (t) => {
  const pods = [pod('a'), pod('b', { deleting: true }), pod('c', { phase: 'Failed' })];
  const r = resourceReplicas({ currentReplicas: 3, pods, metrics: metrics([['a', 100], ['b', 500], ['c', 500], ['stranger', 900]]), resource: 'cpu', now: NOW, targetUtilization: 50 });
  // Only a: 100% against 50% with one ready Pod -> 2.
  t.is(r.replicas, 2);
  t.is(r.utilization, 100);
});

test('a scale-up with unready Pods counts them at 0%; if that brings it within tolerance nothing changes', (t) => {
  // Two ready Pods at 100% (target 50%) and two Pending: with the Pending ones at 0%, 50% -> no change.
  const pods = [pod('a'), pod('b'), pod('c', { phase: 'Pending' }), pod('d', { phase: 'Pending' })];
  t.is(resourceReplicas({ currentReplicas: 4, pods, metrics: metrics([['a', 100], ['b', 100]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 4);
  // At 200% each, the unready at 0% still leave 100% over four Pods -> 8.
  t.is(resourceReplicas({ currentReplicas: 4, pods, metrics: metrics([['a', 200], ['b', 200]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 8);
});

test('cpu: a Pod in its initialisation period whose sample predates readiness is unready; memory does not care', (t) => {
  // Started 1 min ago, Ready 2 s ago, the sample 5 s old with a 15 s window: taken before it was ready.
  const fresh = pod('b', { started: MIN, readySince: 2000 });
  const pods = [pod('a'), fresh];
  const r = resourceReplicas({ currentReplicas: 2, pods, metrics: metrics([['a', 100], ['b', 100]]), resource: 'cpu', now: NOW, targetUtilization: 50 });
  // b is unready -> scale-up with b at 0%: (100 + 0) / 200 = 50% -> within tolerance, no change.
  t.is(r.replicas, 2);
  const mem = [pod('a', { memory: '100' }), pod('b', { started: MIN, readySince: 2000, memory: '100' })];
  t.is(resourceReplicas({ currentReplicas: 2, pods: mem, metrics: metrics([['a', 100], ['b', 100]]), resource: 'memory', now: NOW, targetUtilization: 50 }).replicas, 4);
});

test('missing metrics: assumed at 100% of request on a scale-down, 0% on a scale-up; a flipped direction changes nothing', (t) => {
  const pods = ['a', 'b', 'c', 'd'].map((n) => pod(n));
  // Scale-down: a, b at 10% (target 50%); c, d missing count as 100% -> (10+10+100+100)/400 = 55% -> flips to above -> no change.
  t.is(resourceReplicas({ currentReplicas: 4, pods, metrics: metrics([['a', 10], ['b', 10]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 4);
  // Scale-up: a, b at 200%; c, d missing at 0% -> 100% over 4 -> 8.
  t.is(resourceReplicas({ currentReplicas: 4, pods, metrics: metrics([['a', 200], ['b', 200]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 8);
  // Scale-down with one missing: a, b, c at 0% and d missing (100%) -> 25% -> ceil(0.5 * 4) = 2.
  t.is(resourceReplicas({ currentReplicas: 4, pods, metrics: metrics([['a', 0], ['b', 0], ['c', 0]]), resource: 'cpu', now: NOW, targetUtilization: 50 }).replicas, 2);
});

test('requests are summed over containers, or taken from the one container named; a missing request is an error', (t) => {
  const p = pod('a', { containers: [{ name: 'app', cpu: '200m' }, { name: 'side', cpu: '0.1' }] });
  t.deepEqual([...podRequests([p], 'cpu')], [['a', 300]]);
  t.deepEqual([...podRequests([p], 'cpu', 'side')], [['a', 100]]);
  const bare: Pod = { ...p, spec: { containers: [{ name: 'app', image: 'x' }] } };
  const err = t.throws(() => resourceReplicas({ currentReplicas: 1, pods: [bare], metrics: metrics([['a', 1]]), resource: 'cpu', now: NOW, targetUtilization: 50 }), { instanceOf: MetricError });
  t.regex(err!.message, /missing request for cpu in container app of Pod a/);
});

test('no Pods, or no metrics for any ready Pod, is an error with upstream\'s words', (t) => {
  t.throws(() => resourceReplicas({ currentReplicas: 1, pods: [], metrics: new Map(), resource: 'cpu', now: NOW, targetUtilization: 50 }), { message: /no pods returned by selector/ });
  t.throws(() => resourceReplicas({ currentReplicas: 1, pods: [pod('a', { phase: 'Pending' })], metrics: metrics([['a', 10]]), resource: 'cpu', now: NOW, targetUtilization: 50 }), { message: /did not receive metrics for targeted pods/ });
});

test('raw averages: replicas so the average per Pod meets the target value', (t) => {
  const pods = ['a', 'b'].map((n) => pod(n, { memory: '64Mi' }));
  const mi = 1024 * 1024;
  // 2 Pods at 90 MiB against 30 MiB per Pod -> 6.
  const r = rawResourceReplicas({ currentReplicas: 2, pods, metrics: metrics([['a', 90 * mi], ['b', 90 * mi]]), resource: 'memory', now: NOW, targetAverage: 30 * mi });
  t.is(r.replicas, 6);
  t.is(r.rawAverage, 90 * mi);
  t.is(r.utilization, undefined);
  t.is(rawResourceReplicas({ currentReplicas: 2, pods, metrics: metrics([['a', 31 * mi], ['b', 31 * mi]]), resource: 'memory', now: NOW, targetAverage: 30 * mi }).replicas, 2);
});
