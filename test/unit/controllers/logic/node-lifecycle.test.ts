// Node lifecycle decisions: staleness by the controller's own observation clock, the lifecycle taints,
// MarkPodsNotReady, NoExecute eviction after tolerationSeconds, and the default tolerations.

import test from 'ava';
import type { Node, Pod, Taint } from '../../../../src/api/types.js';
import {
  StallDetector,
  desiredTaints,
  evictionFor,
  isStale,
  notReadyConditions,
  podsToMarkNotReady,
  taintsEqual,
  unknownConditions,
  withDefaultTolerations,
} from '../../../../src/controllers/logic/node-lifecycle.js';

const NOW = Date.parse('2026-01-01T00:00:10Z');
const node = (ready: 'True' | 'False' | 'Unknown' | undefined, taints?: Taint[]): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1' },
  spec: taints ? { taints } : {},
  status: { conditions: ready ? [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready, lastHeartbeatTime: '2026-01-01T00:00:00Z' }] : [] },
});
const pod = (name: string, o: { ready?: boolean; tolerations?: Pod['spec']['tolerations']; phase?: string; deleting?: boolean } = {}): Pod =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }], tolerations: o.tolerations },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }, { type: 'ContainersReady', status: 'True' }, { type: 'PodScheduled', status: 'True' }] },
  }) as Pod;

test('stale means not seen changing for longer than the grace period, on our own clock', (t) => {
  t.false(isStale(NOW - 6000, NOW, 6000));
  t.true(isStale(NOW - 6001, NOW, 6000));
});

test('the stall detector reports a gap longer than its limit once, whoever looks first', (t) => {
  const d = new StallDetector(100, 1000);
  t.is(d.look(1050), undefined);
  t.is(d.look(1400), 350, 'a stall');
  t.is(d.look(1401), undefined, 'reported once: the next look measures from the last one');
  t.is(d.look(900), undefined, 'a clock stepped back is no stall');
  t.is(d.look(1450), undefined, 'nor does it move the last look back');
});

test('unknown conditions: every condition Unknown with the kubelet-stopped reason, the heartbeat kept', (t) => {
  const c = unknownConditions(node('True'), new Date(NOW))!;
  t.deepEqual(c.map((x) => [x.type, x.status, x.reason]), [['MemoryPressure', 'Unknown', 'NodeStatusUnknown'], ['Ready', 'Unknown', 'NodeStatusUnknown']]);
  t.is(c[1].message, 'Kubelet stopped posting node status.');
  t.is(c[1].lastHeartbeatTime, '2026-01-01T00:00:00Z', 'the node\'s heartbeat is not ours to change');
  t.is(unknownConditions({ ...node('Unknown'), status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }, new Date(NOW)), undefined, 'already Unknown: nothing to write');
  t.deepEqual(unknownConditions(node(undefined), new Date(NOW))!.map((x) => [x.type, x.status]), [['Ready', 'Unknown']]);
});

test('taints follow Ready: unreachable for Unknown, not-ready for False, none for True; others kept', (t) => {
  const own: Taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
  const u = desiredTaints(node('Unknown', [own]), new Date(NOW));
  t.deepEqual(u, [own, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:10Z' }]);
  // timeAdded survives a re-plan (the eviction clock does not restart)
  t.deepEqual(desiredTaints(node('Unknown', u), new Date(NOW + 5000)), u);
  const f = desiredTaints(node('False', u), new Date(NOW));
  t.deepEqual(f.map((x) => `${x.key}:${x.effect}`), ['dedicated:NoSchedule', 'node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
  t.deepEqual(desiredTaints(node('True', u), new Date(NOW)), [own]);
  t.true(taintsEqual(u, [...u].reverse()));
  t.false(taintsEqual(u, [own]));
});

test('MarkPodsNotReady: the Ready Pods of a node that is not Ready', (t) => {
  const pods = [pod('a'), pod('b', { ready: false }), pod('c', { phase: 'Succeeded' })];
  t.deepEqual(podsToMarkNotReady(node('Unknown'), pods).map((p) => p.metadata.name), ['a']);
  t.deepEqual(podsToMarkNotReady(node('True'), pods), []);
  const conds = notReadyConditions(pods[0], new Date(NOW));
  t.deepEqual(conds.map((c) => [c.type, c.status]), [['Ready', 'False'], ['ContainersReady', 'False'], ['PodScheduled', 'True']]);
  t.is(conds[0].reason, 'NodeNotReady');
});

test('NoExecute eviction: untolerated now, tolerated for tolerationSeconds, for ever without them', (t) => {
  const taint: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:05Z' };
  t.like(evictionFor(pod('a'), [taint], NOW), { evict: true });
  const tol = (s?: number) => [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' as const, effect: 'NoExecute' as const, ...(s !== undefined ? { tolerationSeconds: s } : {}) }];
  t.deepEqual(evictionFor(pod('a', { tolerations: tol(10) }), [taint], NOW), { evict: false, at: Date.parse('2026-01-01T00:00:15Z') });
  t.like(evictionFor(pod('a', { tolerations: tol(3) }), [taint], NOW), { evict: true });
  t.deepEqual(evictionFor(pod('a', { tolerations: tol() }), [taint], NOW), { evict: false, at: undefined });
  t.deepEqual(evictionFor(pod('a', { tolerations: [{ operator: 'Exists' }] }), [taint], NOW), { evict: false, at: undefined }, 'tolerates everything');
  t.deepEqual(evictionFor(pod('a'), [{ key: 'x', effect: 'NoSchedule' }], NOW), { evict: false });
  t.deepEqual(evictionFor(pod('a', { deleting: true }), [taint], NOW), { evict: false }, 'already going');
  t.deepEqual(evictionFor(pod('a', { phase: 'Failed' }), [taint], NOW), { evict: false });
});

test('default tolerations: added unless the Pod has its own', (t) => {
  t.deepEqual(withDefaultTolerations(undefined, 3, 4), [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 3 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 4 },
  ]);
  const own = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 600 }];
  t.deepEqual(withDefaultTolerations(own, 3, 4)!.map((x) => `${x.key}=${x.tolerationSeconds}`), ['node.kubernetes.io/unreachable=600', 'node.kubernetes.io/not-ready=3']);
  t.is(withDefaultTolerations([{ operator: 'Exists' }], 3, 4), undefined, 'a toleration of everything covers both');
  t.is(withDefaultTolerations([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists' }], 3, 4), undefined, 'an effect-less one covers NoExecute');
});
