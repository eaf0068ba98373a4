// The disruption controller's decision: expected and desired Pods for minAvailable / maxUnavailable as
// numbers and percentages, healthy Pods, admitted evictions (disruptedPods) and their expiry, the
// DisruptionAllowed condition, and the problems it reports instead of a status.

import test from 'ava';
import type { Pod, PodDisruptionBudget } from '../../../../src/api/types.js';
import { planPDB } from '../../../../src/controllers/logic/disruption.js';
import { pdbSelects, scaledValue } from '../../../../src/api/disruption.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pdb(spec: PodDisruptionBudget['spec'], disruptedPods?: Record<string, string>): PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation: 3 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, status: disruptedPods ? { disruptedPods, currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 } : undefined };
}

function pod(name: string, o: { ready?: boolean; deleting?: boolean; labels?: Record<string, string>; namespace?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', labels: o.labels ?? { app: 'web' }, deletionTimestamp: o.deleting ? ago(1) : undefined },
    spec: { containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False' }] },
  };
}

const three = () => [pod('a'), pod('b'), pod('c')];
const scale = (total: number) => () => ({ total });

test('minAvailable as a number counts the Pods there are', (t) => {
  const d = planPDB({ pdb: pdb({ minAvailable: 2 }), pods: three(), expectedScale: () => ({ error: 'not read for integers' }), now: NOW });
  t.like(d.status, { currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 3 });
  t.like(d.status!.conditions![0], { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', observedGeneration: 3 });
});

test('an unready Pod is not healthy; at the minimum nothing may be disrupted (InsufficientPods)', (t) => {
  const d = planPDB({ pdb: pdb({ minAvailable: 2 }), pods: [pod('a'), pod('b'), pod('c', { ready: false })], expectedScale: scale(3), now: NOW });
  t.like(d.status, { currentHealthy: 2, disruptionsAllowed: 0 });
  t.like(d.status!.conditions![0], { status: 'False', reason: 'InsufficientPods' });
});

test('percentages and maxUnavailable scale with the replicas the controllers want, rounded up', (t) => {
  // minAvailable 50% of 5 wanted -> 3 must stay healthy; 3 running -> 0 allowed.
  t.like(planPDB({ pdb: pdb({ minAvailable: '50%' }), pods: three(), expectedScale: scale(5), now: NOW }).status, { expectedPods: 5, desiredHealthy: 3, disruptionsAllowed: 0 });
  // maxUnavailable 1 of 3 -> 2 desired, 1 allowed; 34% of 3 rounds up to 2 -> 1 desired, 2 allowed.
  t.like(planPDB({ pdb: pdb({ maxUnavailable: 1 }), pods: three(), expectedScale: scale(3), now: NOW }).status, { desiredHealthy: 2, disruptionsAllowed: 1 });
  t.like(planPDB({ pdb: pdb({ maxUnavailable: '34%' }), pods: three(), expectedScale: scale(3), now: NOW }).status, { desiredHealthy: 1, disruptionsAllowed: 2 });
});

test('a budget whose expected count cannot be found reports the problem instead of a status', (t) => {
  const d = planPDB({ pdb: pdb({ maxUnavailable: 1 }), pods: three(), expectedScale: () => ({ error: 'found no controllers for pod "a"' }), now: NOW });
  t.is(d.status, undefined);
  t.deepEqual(d.problem, { reason: 'CalculateExpectedPodCountFailed', message: 'Failed to calculate the number of expected pods: found no controllers for pod "a"' });
});

test('admitted evictions count as unhealthy until the Pod is seen going or two minutes pass', (t) => {
  const d = planPDB({ pdb: pdb({ minAvailable: 1 }, { a: ago(30), gone: ago(10), old: ago(300) }), pods: [...three(), pod('old')], expectedScale: scale(4), now: NOW });
  // a is still disrupted (healthy: b, c, old = 3); the entry of a vanished Pod and the expired one are dropped.
  t.deepEqual(d.status!.disruptedPods, { a: ago(30) });
  t.is(d.status!.currentHealthy, 3);
  t.is(d.status!.disruptionsAllowed, 2);
  t.is(d.recheckAfterMs, 90_000);
  // A Pod being deleted is neither healthy nor kept in disruptedPods.
  const deleting = planPDB({ pdb: pdb({ minAvailable: 1 }, { a: ago(30) }), pods: [pod('a', { deleting: true }), pod('b')], expectedScale: scale(2), now: NOW });
  t.is(deleting.status!.disruptedPods, undefined);
  t.is(deleting.status!.currentHealthy, 1);
});

test('neither field set: no Pods expected, nothing may be disrupted', (t) => {
  t.like(planPDB({ pdb: pdb({}), pods: three(), expectedScale: scale(3), now: NOW }).status, { expectedPods: 0, desiredHealthy: 0, disruptionsAllowed: 0 });
});

test('the DisruptionAllowed condition keeps its transition time while its status holds', (t) => {
  const first = planPDB({ pdb: pdb({ minAvailable: 1 }), pods: three(), expectedScale: scale(3), now: NOW });
  const later = new Date(NOW.getTime() + 60_000);
  const again = planPDB({ pdb: { ...pdb({ minAvailable: 1 }), status: first.status }, pods: three(), expectedScale: scale(3), now: later });
  t.is(again.status!.conditions![0].lastTransitionTime, first.status!.conditions![0].lastTransitionTime);
  const flipped = planPDB({ pdb: { ...pdb({ minAvailable: 3 }), status: first.status }, pods: three(), expectedScale: scale(3), now: later });
  t.is(flipped.status!.conditions![0].lastTransitionTime, '2024-06-01T12:01:00Z');
});

test('selection: same namespace and labels; a budget without a selector selects nothing, an empty one everything', (t) => {
  t.true(pdbSelects(pdb({}), pod('a')));
  t.false(pdbSelects(pdb({}), pod('a', { namespace: 'other' })));
  t.false(pdbSelects(pdb({}), pod('a', { labels: { app: 'db' } })));
  const none: PodDisruptionBudget = { ...pdb({}), spec: {} };
  t.false(pdbSelects(none, pod('a')));
  const all: PodDisruptionBudget = { ...pdb({}), spec: { selector: {} } };
  t.true(pdbSelects(all, pod('a', { labels: { app: 'db' } })));
});

test('scaledValue: integers as they are, percentages rounded as asked, anything else an error', (t) => {
  t.is(scaledValue(2, 10, true), 2);
  t.is(scaledValue('25%', 10, true), 3);
  t.is(scaledValue('25%', 10, false), 2);
  t.is(scaledValue('4', 10, true), 4);
  t.throws(() => scaledValue('half', 10, true), { message: /invalid value "half": must be an integer or percentage/ });
});
