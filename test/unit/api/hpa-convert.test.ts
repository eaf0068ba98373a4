// autoscaling/v1 <-> v2: v1 shows the CPU utilisation target and carries everything else of v2 in
// Kubernetes' annotations, so a round trip through a v1 client loses nothing.

import test from 'ava';
import type { HorizontalPodAutoscaler, KObject } from '../../../src/api/types.js';
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, CURRENT_METRICS_ANNOTATION, METRICS_ANNOTATION, hpaFromV1, hpaToV1 } from '../../../src/api/hpa-convert.js';

const v2: HorizontalPodAutoscaler = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', annotations: { mine: 'kept' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 2,
    maxReplicas: 5,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 30 } },
  },
  status: {
    observedGeneration: 4,
    currentReplicas: 3,
    desiredReplicas: 4,
    lastScaleTime: '2024-06-01T12:00:00Z',
    currentMetrics: [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75, averageValue: '75m' } } },
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '80Mi' } } },
    ],
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'x', lastTransitionTime: '2024-06-01T12:00:00Z' }],
  },
};

test('v2 as v1: the CPU target and utilisation in their fields, the rest in annotations', (t) => {
  const v1 = hpaToV1(structuredClone(v2) as KObject) as KObject & { spec: Record<string, unknown>; status: Record<string, unknown> };
  t.is(v1.apiVersion, 'autoscaling/v1');
  t.deepEqual(v1.spec, { scaleTargetRef: v2.spec.scaleTargetRef, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });
  t.deepEqual(v1.status, { currentReplicas: 3, desiredReplicas: 4, observedGeneration: 4, lastScaleTime: '2024-06-01T12:00:00Z', currentCPUUtilizationPercentage: 75 });
  const a = v1.metadata.annotations!;
  t.is(a.mine, 'kept');
  t.deepEqual(JSON.parse(a[METRICS_ANNOTATION]), [v2.spec.metrics![1]]);
  t.deepEqual(JSON.parse(a[BEHAVIOR_ANNOTATION]), v2.spec.behavior);
  t.deepEqual(JSON.parse(a[CURRENT_METRICS_ANNOTATION]), [v2.status!.currentMetrics![1]]);
  t.deepEqual(JSON.parse(a[CONDITIONS_ANNOTATION]), v2.status!.conditions);
});

test('v1 back to v2 restores everything the annotations carried, and only the user\'s annotations stay', (t) => {
  const back = hpaFromV1(hpaToV1(structuredClone(v2) as KObject)) as unknown as HorizontalPodAutoscaler;
  t.is(back.apiVersion, 'autoscaling/v2');
  t.deepEqual(back.metadata.annotations, { mine: 'kept' });
  t.deepEqual(back.spec, v2.spec);
  // The CPU status comes back without the averageValue v1 cannot carry.
  t.deepEqual(back.status!.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75 } } }, v2.status!.currentMetrics![1]]);
  t.deepEqual(back.status!.conditions, v2.status!.conditions);
});

test('a plain v1 object (kubectl autoscale) becomes a v2 with one CPU metric; no annotations are invented', (t) => {
  const v1: KObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 } } as KObject;
  const out = hpaFromV1(v1) as unknown as HorizontalPodAutoscaler;
  t.deepEqual(out.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  t.is(out.metadata.annotations, undefined);
  t.is(out.status, undefined);
  // A broken annotation is ignored rather than failing the read.
  const broken = hpaFromV1({ ...v1, metadata: { name: 'web', annotations: { [METRICS_ANNOTATION]: '{not json' } } }) as unknown as HorizontalPodAutoscaler;
  t.is(broken.spec.metrics!.length, 1);
  t.is(broken.metadata.annotations, undefined);
});
