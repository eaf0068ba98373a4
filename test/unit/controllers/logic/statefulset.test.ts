import test from 'ava';
import type { ControllerRevision, Pod, StatefulSet } from '../../../../src/api/types.js';
import { claimsFor, ordinalOf, planStatefulSet, type StatefulSetAction } from '../../../../src/controllers/logic/statefulset.js';
import { revisionData, revisionsToPrune, templateOf, updateRevisionFor } from '../../../../src/controllers/logic/history.js';

const NOW = new Date('2026-12-07T10:00:00Z');

function sts(spec: Partial<StatefulSet['spec']> = {}, image = 'app:1'): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'sts-uid', generation: 1 },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }], volumes: [{ name: 'cfg', emptyDir: {} }] } },
      volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...spec,
    },
  };
}

function rev(set: StatefulSet, n: number): ControllerRevision {
  const step = updateRevisionFor(set, set.spec.template, []);
  return { ...step.update, revision: n };
}

function pod(name: string, revision: string, o: { ready?: boolean; phase?: 'Running' | 'Pending' | 'Failed'; deleting?: boolean } = {}): Pod {
  const ready = o.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web', 'controller-revision-hash': revision }, ...(o.deleting ? { deletionTimestamp: '2026-12-07T10:00:00Z' } : {}) },
    spec: { containers: [] },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-12-07T09:00:00Z' }] },
  };
}

const kinds = (a: StatefulSetAction[]) => a.map((x) => (x.kind === 'createPod' ? `create ${x.pod.metadata.name}` : x.kind === 'deletePod' ? `delete ${x.pod.metadata.name} (${x.reason})` : x.kind === 'createClaims' ? `claims ${x.claims.map((c) => c.metadata.name).join(',')}` : `own ${x.claims.join(',')}`));

test('OrderedReady: one ordinal at a time, claims before their pod, the next only after the previous is Ready', (t) => {
  const set = sts();
  const r = rev(set, 1);
  let plan = planStatefulSet({ set, pods: [], claims: new Set(), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), ['claims data-web-0', 'create web-0']);
  const p0 = (plan.actions[1] as Extract<StatefulSetAction, { kind: 'createPod' }>).pod;
  t.is(p0.spec.hostname, 'web-0');
  t.is(p0.spec.subdomain, 'nginx');
  t.deepEqual(p0.spec.volumes, [{ name: 'cfg', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }]);
  t.is(p0.metadata.labels!['statefulset.kubernetes.io/pod-name'], 'web-0');
  t.is(p0.metadata.labels!['apps.kubernetes.io/pod-index'], '0');
  t.is(p0.metadata.labels!['controller-revision-hash'], r.metadata.name!);
  plan = planStatefulSet({ set, pods: [pod('web-0', r.metadata.name!, { ready: false })], claims: new Set(['data-web-0']), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), [], 'web-1 waits for web-0 to be Ready');
  plan = planStatefulSet({ set, pods: [pod('web-0', r.metadata.name!)], claims: new Set(['data-web-0', 'data-web-1']), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), ['create web-1'], 'an existing claim is reused');
});

test('Parallel creates every missing ordinal at once', (t) => {
  const set = sts({ podManagementPolicy: 'Parallel' });
  const r = rev(set, 1);
  const plan = planStatefulSet({ set, pods: [pod('web-1', r.metadata.name!, { ready: false })], claims: new Set(['data-web-1']), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), ['claims data-web-0', 'create web-0', 'claims data-web-2', 'create web-2']);
});

test('scale down removes the highest ordinal first, one at a time under OrderedReady, and only when all is healthy', (t) => {
  const set = sts({ replicas: 1 });
  const r = rev(set, 1);
  const h = r.metadata.name!;
  let plan = planStatefulSet({ set, pods: [pod('web-0', h), pod('web-1', h), pod('web-2', h)], claims: new Set(), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), ['delete web-2 (scaleDown)']);
  plan = planStatefulSet({ set, pods: [pod('web-0', h), pod('web-1', h), pod('web-2', h, { deleting: true })], claims: new Set(), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), [], 'web-1 waits until web-2 is gone');
  plan = planStatefulSet({ set, pods: [pod('web-0', h, { ready: false }), pod('web-1', h)], claims: new Set(), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), [], 'no scale down while a pod is unhealthy');
  const par = sts({ replicas: 1, podManagementPolicy: 'Parallel' });
  plan = planStatefulSet({ set: par, pods: [pod('web-0', h), pod('web-1', h), pod('web-2', h)], claims: new Set(), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), ['delete web-2 (scaleDown)', 'delete web-1 (scaleDown)']);
});

test('persistentVolumeClaimRetentionPolicy: whenScaled Delete hands the claims to the pod; whenDeleted Delete to the set', (t) => {
  const set = sts({ replicas: 2, persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Delete' } });
  const r = rev(set, 1);
  const h = r.metadata.name!;
  const plan = planStatefulSet({ set, pods: [pod('web-0', h), pod('web-1', h), pod('web-2', h)], claims: new Set(['data-web-2']), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), ['own data-web-2', 'delete web-2 (scaleDown)']);
  t.deepEqual(claimsFor(set, 0)[0].metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: false, blockOwnerDeletion: true }]);
  t.is(claimsFor(sts(), 0)[0].metadata.ownerReferences, undefined, 'Retain: the claim belongs to no one');
  t.deepEqual(claimsFor(set, 4)[0].metadata.labels, { app: 'web' });
});

test('RollingUpdate: highest ordinal first, one at a time, down to the partition; then the update revision is current', (t) => {
  const old = sts();
  const cur = rev(old, 1);
  const set = sts({}, 'app:2');
  const upd = rev(set, 2);
  const c = cur.metadata.name!;
  const u = upd.metadata.name!;
  let plan = planStatefulSet({ set, pods: [pod('web-0', c), pod('web-1', c), pod('web-2', c)], claims: new Set(), current: cur, update: upd, now: NOW });
  t.deepEqual(kinds(plan.actions), ['delete web-2 (update)']);
  plan = planStatefulSet({ set, pods: [pod('web-0', c), pod('web-1', c), pod('web-2', u, { ready: false })], claims: new Set(), current: cur, update: upd, now: NOW });
  t.deepEqual(kinds(plan.actions), [], 'waits for web-2 at the new revision to be Ready');
  plan = planStatefulSet({ set, pods: [pod('web-0', c), pod('web-1', c), pod('web-2', u)], claims: new Set(), current: cur, update: upd, now: NOW });
  t.deepEqual(kinds(plan.actions), ['delete web-1 (update)']);
  t.is(plan.status.updatedReplicas, 1);
  t.is(plan.status.currentReplicas, 2);
  plan = planStatefulSet({ set, pods: [pod('web-0', u), pod('web-1', u), pod('web-2', u)], claims: new Set(), current: cur, update: upd, now: NOW });
  t.deepEqual(kinds(plan.actions), []);
  t.is(plan.status.currentRevision, u);
  t.is(plan.status.updateRevision, u);
  t.is(plan.status.readyReplicas, 3);
  t.is(plan.status.observedGeneration, 1);

  // partition 2: only web-2 moves; a recreated web-0 comes back at the current revision.
  const part = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }, 'app:2');
  plan = planStatefulSet({ set: part, pods: [pod('web-0', c), pod('web-1', c), pod('web-2', u)], claims: new Set(), current: cur, update: upd, now: NOW });
  t.deepEqual(kinds(plan.actions), []);
  plan = planStatefulSet({ set: part, pods: [pod('web-1', c), pod('web-2', u)], claims: new Set(['data-web-0']), current: cur, update: upd, now: NOW });
  const recreated = (plan.actions[0] as Extract<StatefulSetAction, { kind: 'createPod' }>).pod;
  t.is(recreated.metadata.labels!['controller-revision-hash'], c);
  t.is(recreated.spec.containers[0].image, 'app:1');
});

test('OnDelete never deletes for an update; a pod deleted by the user comes back at the update revision', (t) => {
  const old = sts();
  const cur = rev(old, 1);
  const set = sts({ updateStrategy: { type: 'OnDelete' } }, 'app:2');
  const upd = rev(set, 2);
  const c = cur.metadata.name!;
  let plan = planStatefulSet({ set, pods: [pod('web-0', c), pod('web-1', c), pod('web-2', c)], claims: new Set(), current: cur, update: upd, now: NOW });
  t.deepEqual(kinds(plan.actions), []);
  plan = planStatefulSet({ set, pods: [pod('web-0', c), pod('web-2', c)], claims: new Set(['data-web-1']), current: cur, update: upd, now: NOW });
  const p = (plan.actions[0] as Extract<StatefulSetAction, { kind: 'createPod' }>).pod;
  t.is(p.spec.containers[0].image, 'app:2');
});

test('a Failed pod is deleted (and recreated on the next pass); pods of other names are not ours to count', (t) => {
  const set = sts();
  const r = rev(set, 1);
  const h = r.metadata.name!;
  const plan = planStatefulSet({ set, pods: [pod('web-0', h), pod('web-1', h, { phase: 'Failed' }), pod('web-2', h)], claims: new Set(), current: r, update: r, now: NOW });
  t.deepEqual(kinds(plan.actions), ['delete web-1 (failed)']);
  t.is(ordinalOf(set, pod('web-01', h)), undefined);
  t.is(ordinalOf(set, pod('webx-1', h)), undefined);
  t.is(ordinalOf(set, pod('web-12', h)), 12);
});

test('controller history: revision data restores the template; a template seen before is renumbered; pruning keeps live ones', (t) => {
  const a = sts();
  const b = sts({}, 'app:2');
  const r1 = updateRevisionFor(a, a.spec.template, []);
  t.truthy(r1.create);
  t.is(r1.update.revision, 1);
  t.deepEqual(r1.update.data, revisionData(a.spec.template));
  t.is((r1.update.data as { spec: { template: { $patch: string } } }).spec.template.$patch, 'replace');
  t.deepEqual(templateOf(r1.update), a.spec.template);
  t.regex(r1.update.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  const r2 = updateRevisionFor(b, b.spec.template, [r1.update]);
  t.is(r2.update.revision, 2);
  t.not(r2.update.metadata.name, r1.update.metadata.name);
  const back = updateRevisionFor(a, a.spec.template, [r1.update, r2.update]);
  t.is(back.create, undefined);
  t.deepEqual(back.renumber, { revision: r1.update, to: 3 });
  const same = updateRevisionFor(b, b.spec.template, [r1.update, r2.update]);
  t.is(same.update, r2.update);
  t.deepEqual(revisionsToPrune([r1.update, r2.update], new Set([r2.update.metadata.name!]), 0), [r1.update]);
  t.deepEqual(revisionsToPrune([r1.update, r2.update], new Set([r2.update.metadata.name!]), 1), []);
});
