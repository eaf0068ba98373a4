import test from 'ava';
import type { DaemonSet, Node, Pod } from '../../../../src/api/types.js';
import { daemonPodFor, daemonPodNode, nodeShouldRunDaemon, planDaemonSet } from '../../../../src/controllers/logic/daemonset.js';

const NOW = new Date('2026-12-07T10:00:00Z');

function node(name: string, o: { labels?: Record<string, string>; taints?: Node['spec']['taints']; unschedulable?: boolean } = {}): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } }, spec: { taints: o.taints, unschedulable: o.unschedulable }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
}

function ds(spec: Partial<DaemonSet['spec']> = {}, podSpec: Partial<Pod['spec']> = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'kube-system', uid: 'ds-uid', generation: 2 },
    spec: { selector: { matchLabels: { app: 'agent' } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'i' }], ...podSpec } }, ...spec },
  };
}

let n = 0;
function pod(nodeName: string, hash: string, o: { ready?: boolean; phase?: 'Running' | 'Failed' | 'Pending' } = {}): Pod {
  const p = daemonPodFor(ds(), nodeName, hash);
  p.metadata.name = `agent-${n++}`;
  p.metadata.uid = `u${n}`;
  p.metadata.creationTimestamp = `2026-12-07T09:00:${String(n % 60).padStart(2, '0')}Z`;
  p.spec.nodeName = nodeName;
  p.status = { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] };
  return p;
}

test('one pod per eligible node, pinned with node affinity and the daemon tolerations', (t) => {
  const nodes = [node('a'), node('b', { unschedulable: true }), node('c', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] })];
  const plan = planDaemonSet(ds(), nodes, [], 'h1', NOW);
  t.deepEqual(plan.create.sort(), ['a', 'b'], 'unschedulable is tolerated, an untolerated taint is not');
  t.is(plan.status.desiredNumberScheduled, 2);
  const p = daemonPodFor(ds(), 'a', 'h1');
  t.is(daemonPodNode(p), 'a');
  t.deepEqual((p.spec.affinity as { nodeAffinity: unknown }).nodeAffinity, { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } });
  t.true(p.spec.tolerations!.some((x) => x.key === 'node.kubernetes.io/unschedulable'));
  t.is(p.metadata.labels!['controller-revision-hash'], 'h1');
  t.is(p.metadata.labels!['pod-template-generation'], '2');
  t.true(nodeShouldRunDaemon(ds({}, { tolerations: [{ key: 'gpu', operator: 'Exists' }] }), nodes[2]));
});

test('nodeSelector: only matching nodes; a pod on a node that stopped matching is deleted (misscheduled)', (t) => {
  const d = ds({}, { nodeSelector: { disk: 'ssd' } });
  const stray = pod('a', 'h1');
  const plan = planDaemonSet(d, [node('a'), node('b', { labels: { disk: 'ssd' } })], [stray], 'h1', NOW);
  t.deepEqual(plan.create, ['b']);
  t.deepEqual(plan.delete, [stray]);
  t.is(plan.status.numberMisscheduled, 1);
  t.is(plan.status.desiredNumberScheduled, 1);
});

test('duplicates and failed pods go; status counts', (t) => {
  const keep = pod('a', 'h1');
  const dup = pod('a', 'h1');
  const failed = pod('b', 'h1', { phase: 'Failed' });
  const plan = planDaemonSet(ds(), [node('a'), node('b')], [keep, dup, failed], 'h1', NOW);
  t.deepEqual(plan.delete.sort((x, y) => x.metadata.name!.localeCompare(y.metadata.name!)), [dup, failed].sort((x, y) => x.metadata.name!.localeCompare(y.metadata.name!)));
  t.deepEqual(plan.create, ['b']);
  t.deepEqual(plan.status, { currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberUnavailable: 1, observedGeneration: 2 });
});

test('RollingUpdate with maxUnavailable 1: one old pod at a time, unavailable ones first', (t) => {
  const nodes = [node('a'), node('b'), node('c')];
  let plan = planDaemonSet(ds(), nodes, [pod('a', 'old'), pod('b', 'old'), pod('c', 'old')], 'new', NOW);
  t.is(plan.delete.length, 1);
  t.is(plan.create.length, 0);
  const notReady = pod('c', 'old', { ready: false });
  plan = planDaemonSet(ds(), nodes, [pod('a', 'old'), pod('b', 'old'), notReady], 'new', NOW);
  t.deepEqual(plan.delete, [notReady], 'the budget is spent on the pod that is down anyway');
  plan = planDaemonSet(ds(), nodes, [pod('a', 'old'), pod('b', 'new', { ready: false })], 'new', NOW);
  t.deepEqual(plan.delete, [], 'b is updating and c is missing: the budget is used up');
  t.deepEqual(plan.create, ['c']);
  t.is(planDaemonSet(ds({ updateStrategy: { type: 'OnDelete' } }), nodes, [pod('a', 'old'), pod('b', 'old'), pod('c', 'old')], 'new', NOW).delete.length, 0);
});

test('RollingUpdate with maxSurge: the new pod starts beside the old one, which goes once the new is available', (t) => {
  const d = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
  const nodes = [node('a'), node('b')];
  const oldA = pod('a', 'old');
  let plan = planDaemonSet(d, nodes, [oldA, pod('b', 'old')], 'new', NOW);
  t.deepEqual(plan.create, ['a']);
  t.deepEqual(plan.delete, []);
  plan = planDaemonSet(d, nodes, [oldA, pod('a', 'new', { ready: false }), pod('b', 'old')], 'new', NOW);
  t.deepEqual(plan.create, [], 'one surge at a time');
  t.deepEqual(plan.delete, []);
  plan = planDaemonSet(d, nodes, [oldA, pod('a', 'new'), pod('b', 'old')], 'new', NOW);
  t.deepEqual(plan.delete, [oldA]);
});
