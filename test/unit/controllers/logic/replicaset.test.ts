// ReplicaSet decisions: pod predicates, create/delete counts, the ActivePods deletion order, status,
// pods from the template, adoption/release, expectations.

import test from 'ava';
import type { Pod, PodPhase, ReplicaSet } from '../../../../src/api/types.js';
import { isPodActive, isPodAvailable, isPodReady, isPodTerminal, podAvailableAt, podReadyTime } from '../../../../src/controllers/logic/pod-status.js';
import { BURST_REPLICAS, compareActivePods, podFromTemplate, randomSuffix, reconcileReplicaSet } from '../../../../src/controllers/logic/replicaset.js';
import { claimPods, claimReplicaSets, withOwnerRef, withoutOwnerRef } from '../../../../src/controllers/logic/adopt.js';
import { Expectations } from '../../../../src/controllers/logic/expectations.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function rs(o: { replicas?: number; minReadySeconds?: number; generation?: number; deleting?: boolean } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-abc', namespace: 'default', uid: 'rs-uid', generation: o.generation ?? 3, deletionTimestamp: o.deleting ? ago(1) : undefined },
    spec: {
      replicas: o.replicas ?? 3,
      minReadySeconds: o.minReadySeconds,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', tier: 'front' }, annotations: { note: 'x' } },
        spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1d'] }] },
      },
    },
  };
}

interface P {
  node?: string;
  phase?: PodPhase;
  ready?: boolean;
  readySince?: number; // seconds ago
  restarts?: number;
  created?: number; // seconds ago
  deleting?: boolean;
  labels?: Record<string, string>;
  owner?: string | null;
}

function pod(name: string, o: P = {}): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'web', tier: 'front' },
      creationTimestamp: o.created === undefined ? ago(1000) : ago(o.created),
      deletionTimestamp: o.deleting ? ago(1) : undefined,
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: o.node ?? 'n1' },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: ago(o.readySince ?? 600) }],
      containerStatuses: [{ name: 'c', ready: o.ready !== false, restartCount: o.restarts ?? 0, state: {}, lastState: {}, image: 'busybox', imageID: '' }],
    },
  };
  if (o.owner !== null) p.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner ?? 'web-abc', uid: o.owner ? `uid-${o.owner}` : 'rs-uid', controller: true }];
  return p;
}

// ---------- pod predicates ----------

test('pod predicates', (t) => {
  t.true(isPodActive(pod('a')));
  t.false(isPodActive(pod('a', { deleting: true })));
  t.false(isPodActive(pod('a', { phase: 'Succeeded' })));
  t.true(isPodTerminal(pod('a', { phase: 'Failed' })));
  t.false(isPodTerminal(pod('a', { phase: 'Unknown' })));
  t.true(isPodReady(pod('a')));
  t.false(isPodReady(pod('a', { ready: false })));
  t.is(podReadyTime(pod('a', { readySince: 30 }))?.toISOString(), '2024-06-01T11:59:30.000Z');
  t.is(podReadyTime(pod('a', { ready: false })), undefined);
  t.true(isPodAvailable(pod('a', { readySince: 0 }), 0, NOW));
  t.false(isPodAvailable(pod('a', { readySince: 9 }), 10, NOW));
  t.true(isPodAvailable(pod('a', { readySince: 10 }), 10, NOW));
  t.false(isPodAvailable(pod('a', { ready: false }), 0, NOW));
  t.is(podAvailableAt(pod('a', { readySince: 4 }), 10, NOW)?.toISOString(), '2024-06-01T12:00:06.000Z');
  t.is(podAvailableAt(pod('a', { readySince: 40 }), 10, NOW), undefined);
});

// ---------- counts ----------

const countCases: { name: string; replicas: number; pods: Pod[]; create: number; deleted: string[] }[] = [
  { name: 'scale from zero', replicas: 3, pods: [], create: 3, deleted: [] },
  { name: 'steady', replicas: 2, pods: [pod('a'), pod('b')], create: 0, deleted: [] },
  { name: 'one missing', replicas: 3, pods: [pod('a'), pod('b')], create: 1, deleted: [] },
  { name: 'terminating and finished pods do not count', replicas: 3, pods: [pod('a'), pod('b', { deleting: true }), pod('c', { phase: 'Failed' }), pod('d', { phase: 'Succeeded' })], create: 2, deleted: [] },
  { name: 'surplus of one', replicas: 1, pods: [pod('a', { created: 100 }), pod('b', { created: 50 })], create: 0, deleted: ['b'] },
  { name: 'scale to zero', replicas: 0, pods: [pod('a'), pod('b')], create: 0, deleted: ['a', 'b'] },
  { name: 'burst cap', replicas: 900, pods: [], create: BURST_REPLICAS, deleted: [] },
];
for (const c of countCases) {
  test(`reconcileReplicaSet counts: ${c.name}`, (t) => {
    const plan = reconcileReplicaSet(rs({ replicas: c.replicas }), c.pods, NOW);
    t.is(plan.create, c.create);
    t.deepEqual(plan.delete.map((p) => p.metadata.name).sort(), [...c.deleted].sort());
  });
}

test('a ReplicaSet being deleted neither creates nor deletes, but reports status', (t) => {
  const plan = reconcileReplicaSet(rs({ replicas: 5, deleting: true }), [pod('a')], NOW);
  t.is(plan.create, 0);
  t.deepEqual(plan.delete, []);
  t.is(plan.status.replicas, 1);
});

// ---------- deletion order ----------

test('surplus deletion follows the ActivePods order', (t) => {
  const pods = [
    pod('ready-old', { readySince: 900, created: 1000 }),
    pod('unscheduled', { node: '', phase: 'Pending', ready: false }),
    pod('pending', { phase: 'Pending', ready: false }),
    pod('unknown', { phase: 'Unknown', ready: false }),
    pod('running-notready', { ready: false }),
    pod('ready-recent', { readySince: 10 }),
    pod('ready-mid-restarts', { readySince: 300, restarts: 5 }),
    pod('ready-mid', { readySince: 300, created: 500 }),
    pod('ready-mid-newer', { readySince: 300, created: 400 }),
  ];
  const want = ['unscheduled', 'pending', 'unknown', 'running-notready', 'ready-recent', 'ready-mid-restarts', 'ready-mid-newer', 'ready-mid', 'ready-old'];
  t.deepEqual([...pods].sort(compareActivePods).map((p) => p.metadata.name), want);
  for (let n = 1; n <= pods.length; n++) {
    const plan = reconcileReplicaSet(rs({ replicas: pods.length - n }), pods, NOW);
    t.deepEqual(plan.delete.map((p) => p.metadata.name), want.slice(0, n));
  }
});

test('deletion order: a missing creation time sorts first, as Kubernetes afterOrZero does', (t) => {
  const a = pod('a', { created: 10 });
  const b = pod('b');
  delete b.metadata.creationTimestamp;
  t.deepEqual([a, b].sort(compareActivePods).map((p) => p.metadata.name), ['b', 'a']);
});

// ---------- status ----------

test('status: replicas, fullyLabeled, ready, available with minReadySeconds, observedGeneration', (t) => {
  const pods = [
    pod('a', { readySince: 100 }),
    pod('b', { readySince: 5 }),
    pod('c', { ready: false }),
    pod('d', { readySince: 100, labels: { app: 'web' } }), // matches selector but not all template labels
    pod('gone', { deleting: true }),
  ];
  const plan = reconcileReplicaSet(rs({ replicas: 4, minReadySeconds: 30, generation: 7 }), pods, NOW);
  t.deepEqual(plan.status, { replicas: 4, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 2, observedGeneration: 7 });
  // b becomes available 25 s from now
  t.is(plan.requeueAfterSeconds, 25);
  t.true(plan.statusChanged);
});

test('statusChanged: false once written; a zero count equals an absent one', (t) => {
  const r = rs({ replicas: 1 });
  const pods = [pod('a', { ready: false })];
  const first = reconcileReplicaSet(r, pods, NOW);
  t.true(first.statusChanged);
  r.status = { replicas: 1, fullyLabeledReplicas: 1, observedGeneration: 3 }; // as stored with omitempty
  t.false(reconcileReplicaSet(r, pods, NOW).statusChanged);
});

test('status: ReplicaFailure set from the last manage error and cleared once it succeeds', (t) => {
  const failed = reconcileReplicaSet(rs(), [], NOW, { manageError: { reason: 'FailedCreate', message: 'pods "web-abc-x" is forbidden: quota' } });
  t.deepEqual(failed.status.conditions, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-abc-x" is forbidden: quota', lastTransitionTime: '2024-06-01T12:00:00Z' }]);
  const r = rs();
  r.status = failed.status;
  t.is(reconcileReplicaSet(r, [], NOW).status.conditions, undefined);
});

// ---------- pods from the template ----------

test('podFromTemplate: generateName, labels, annotations, owner, independent spec copy', (t) => {
  const r = rs();
  const p = podFromTemplate(r);
  t.is(p.metadata.generateName, 'web-abc-');
  t.is(p.metadata.name, undefined);
  t.is(p.metadata.namespace, 'default');
  t.deepEqual(p.metadata.labels, { app: 'web', tier: 'front' });
  t.deepEqual(p.metadata.annotations, { note: 'x' });
  t.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }]);
  p.spec.containers[0].image = 'changed';
  t.is(r.spec.template!.spec.containers[0].image, 'busybox');
  const named = podFromTemplate(r, randomSuffix(() => 0.5));
  t.regex(named.metadata.name!, /^web-abc-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const long = rs();
  long.metadata.name = 'x'.repeat(70);
  t.is(podFromTemplate(long, 'abcde').metadata.name!.length, 63);
});

// ---------- adoption ----------

test('claimPods: adopt matching orphans, keep own, release non-matching own, ignore others', (t) => {
  const r = rs();
  const pods = [
    pod('mine'),
    pod('orphan', { owner: null }),
    pod('orphan-other-labels', { owner: null, labels: { app: 'db' } }),
    pod('orphan-terminating', { owner: null, deleting: true }),
    pod('orphan-finished', { owner: null, phase: 'Succeeded' }),
    pod('mine-relabelled', { labels: { app: 'web-debug' } }),
    pod('someone-elses', { owner: 'other' }),
  ];
  const other = pod('orphan-other-ns', { owner: null });
  other.metadata.namespace = 'kube-system';
  pods.push(other);
  const c = claimPods(r, pods);
  t.deepEqual(c.claimed.map((p) => p.metadata.name), ['mine', 'orphan']);
  t.deepEqual(c.adopt.map((p) => p.metadata.name), ['orphan']);
  t.deepEqual(c.release.map((p) => p.metadata.name), ['mine-relabelled']);
  t.deepEqual(withOwnerRef(pods[1], r).map((x) => x.uid), ['rs-uid']);
  t.deepEqual(withoutOwnerRef(pods[5], 'rs-uid'), []);
});

test('claim: an owner being deleted neither adopts nor releases; an empty selector claims nothing', (t) => {
  const deleting = rs({ deleting: true });
  const c = claimPods(deleting, [pod('mine'), pod('orphan', { owner: null }), pod('mine-relabelled', { labels: { app: 'x' } })]);
  t.deepEqual(c.claimed.map((p) => p.metadata.name), ['mine']);
  t.deepEqual(c.adopt, []);
  t.deepEqual(c.release, []);
  const empty = rs();
  empty.spec.selector = {};
  t.deepEqual(claimPods(empty, [pod('orphan', { owner: null })]).claimed, []);
});

test('claimReplicaSets: a Deployment adopts ReplicaSets its selector matches', (t) => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd-uid' }, spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In' as const, values: ['web'] }] } } };
  const orphan = rs();
  orphan.metadata.labels = { app: 'web' };
  const c = claimReplicaSets(d, [orphan]);
  t.is(c.adopt.length, 1);
  t.deepEqual(withOwnerRef(orphan, d), [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
});

// ---------- expectations ----------

test('expectations: wait for observed creates/deletes, or the TTL', (t) => {
  const e = new Expectations(60_000);
  t.true(e.satisfied('default/web', NOW));
  e.expect('default/web', 2, ['default/p1'], NOW);
  t.false(e.satisfied('default/web', NOW));
  e.creationObserved('default/web');
  e.creationObserved('default/web');
  t.false(e.satisfied('default/web', NOW));
  e.deletionObserved('default/web', 'default/p1');
  e.deletionObserved('default/web', 'default/p1'); // a second observation changes nothing
  t.true(e.satisfied('default/web', NOW));
  e.expect('default/web', 1, [], NOW);
  t.false(e.satisfied('default/web', new Date(NOW.getTime() + 60_000)));
  t.true(e.satisfied('default/web', new Date(NOW.getTime() + 60_001)));
  e.forget('default/web');
  t.true(e.satisfied('default/web', NOW));
});
