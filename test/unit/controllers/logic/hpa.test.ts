// The HPA's decision (horizontal.go): the largest metric proposal, the legacy rules (down-scale
// stabilisation, double or +4 per step), behaviors (stabilisation windows, policies, selectPolicy),
// min/max, and the conditions and events with Kubernetes' reasons.

import test from 'ava';
import type { HorizontalPodAutoscaler, MetricSpec, Pod } from '../../../../src/api/types.js';
import { emptyMemory, planHPA, type HPAInputs, type HPAMemory } from '../../../../src/controllers/logic/hpa.js';
import type { PodMetric } from '../../../../src/controllers/logic/hpa-replicas.js';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const S = 1000;

function hpa(o: { min?: number; max?: number; metrics?: MetricSpec[]; behavior?: HorizontalPodAutoscaler['spec']['behavior'] } = {}): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', generation: 2 },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: o.min ?? 1,
      maxReplicas: o.max ?? 10,
      metrics: o.metrics ?? [cpu(50)],
      behavior: o.behavior,
    },
  };
}

const cpu = (pct: number): MetricSpec => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } });
const memAvg = (v: string): MetricSpec => ({ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: v } } });

function pods(n: number): Pod[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'x', resources: { requests: { cpu: '100m', memory: '100Mi' } } }] },
    status: { phase: 'Running', startTime: new Date(NOW - 600 * S).toISOString(), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(NOW - 590 * S).toISOString() }] },
  }));
}

/** Every Pod at `cpuMilli` millicores and `memBytes` bytes. */
function inputs(h: HorizontalPodAutoscaler, replicas: number, cpuMilli: number, o: { memory?: HPAMemory; now?: number; memBytes?: number; window?: number } = {}): HPAInputs {
  const list = pods(replicas);
  const now = o.now ?? NOW;
  return {
    hpa: h,
    scale: { replicas, pods: list },
    metrics: (resource) => new Map<string, PodMetric>(list.map((p) => [p.metadata.name!, { value: resource === 'cpu' ? cpuMilli : (o.memBytes ?? 0), timestamp: now - 5 * S, windowMs: 15 * S }])),
    memory: o.memory ?? emptyMemory(),
    now,
    downscaleStabilizationSeconds: o.window,
  };
}

const cond = (plan: ReturnType<typeof planHPA>, type: string) => plan.status.conditions?.find((c) => c.type === type);

test('scale-up: the ratio to the target, the status, the conditions and a SuccessfulRescale event', (t) => {
  const plan = planHPA(inputs(hpa(), 2, 100));
  t.is(plan.rescaleTo, 4);
  t.is(plan.status.currentReplicas, 2);
  t.is(plan.status.desiredReplicas, 4);
  t.is(plan.status.observedGeneration, 2);
  t.truthy(plan.status.lastScaleTime);
  t.deepEqual(plan.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } } }]);
  t.like(cond(plan, 'AbleToScale'), { status: 'True', reason: 'ReadyForNewScale' });
  t.like(cond(plan, 'ScalingActive'), { status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' });
  t.like(cond(plan, 'ScalingLimited'), { status: 'False', reason: 'DesiredWithinRange' });
  t.deepEqual(plan.events, [{ type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 4; reason: cpu resource utilization (percentage of request) above target' }]);
  t.deepEqual(plan.memory.scaleUpEvents, [{ at: NOW, change: 2 }]);
});

test('legacy rules: at most double or +4 per step, and never above maxReplicas', (t) => {
  // 1 Pod at 1000% of a 50% target wants 20: limited to max(2*1, 4) = 4.
  const up = planHPA(inputs(hpa({ max: 50 }), 1, 1000));
  t.is(up.rescaleTo, 4);
  t.like(cond(up, 'ScalingLimited'), { status: 'True', reason: 'ScaleUpLimit' });
  const capped = planHPA(inputs(hpa({ max: 3 }), 2, 1000));
  t.is(capped.rescaleTo, 3);
  t.like(cond(capped, 'ScalingLimited'), { status: 'True', reason: 'TooManyReplicas' });
});

test('legacy rules: a scale-down waits for the highest recommendation of the stabilisation window', (t) => {
  const h = hpa();
  // 4 Pods at 100% recommend 8 (capped at 8 by the legacy double); remember that.
  let memory = planHPA(inputs(h, 4, 100)).memory;
  // A minute later the load is gone: the proposal is 1, but 8 was recommended within 5 minutes.
  const later = planHPA(inputs(h, 8, 0, { memory, now: NOW + 60 * S }));
  t.is(later.status.desiredReplicas, 8);
  t.is(later.rescaleTo, undefined);
  t.like(cond(later, 'AbleToScale'), { reason: 'ScaleDownStabilized' });
  memory = later.memory;
  // Past the window (and with a shorter one from the flag) it goes down to minReplicas.
  const after = planHPA(inputs(h, 8, 0, { memory, now: NOW + 301 * S }));
  t.is(after.rescaleTo, 1);
  t.deepEqual(after.events.at(-1), { type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 1; reason: All metrics below target' });
  const flag = planHPA(inputs(h, 8, 0, { memory: later.memory, now: NOW + 61 * S, window: 30 }));
  t.is(flag.rescaleTo, 1);
});

test('behaviors: a zero scale-down window and a Pods policy of 1 per 60 s step down one at a time', (t) => {
  const h = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } });
  const first = planHPA(inputs(h, 5, 0));
  t.is(first.rescaleTo, 4);
  t.like(cond(first, 'ScalingLimited'), { status: 'True', reason: 'ScaleDownLimit' });
  // 30 s later the period still holds the last step: no change.
  const second = planHPA(inputs(h, 4, 0, { memory: first.memory, now: NOW + 30 * S }));
  t.is(second.rescaleTo, undefined);
  t.is(second.status.desiredReplicas, 4);
  const third = planHPA(inputs(h, 4, 0, { memory: second.memory, now: NOW + 61 * S }));
  t.is(third.rescaleTo, 3);
});

test('behaviors: the scale-up window takes the lowest recent recommendation; selectPolicy Disabled never scales that way', (t) => {
  const h = hpa({ behavior: { scaleUp: { stabilizationWindowSeconds: 60 } } });
  // A recommendation of 2 from 30 s ago holds a burst that now recommends 6.
  const memory: HPAMemory = { ...emptyMemory(), recommendations: [{ at: NOW - 30 * S, replicas: 2 }] };
  const plan = planHPA(inputs(h, 2, 150, { memory }));
  t.is(plan.rescaleTo, undefined);
  t.like(cond(plan, 'AbleToScale'), { reason: 'ScaleUpStabilized' });
  const off = hpa({ behavior: { scaleUp: { selectPolicy: 'Disabled' } } });
  t.is(planHPA(inputs(off, 2, 500)).rescaleTo, undefined);
  // Default scale-up rules (100% or 4 Pods per 15 s, the larger): 2 -> 6 at once.
  const dflt = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } });
  t.is(planHPA(inputs(dflt, 2, 150)).rescaleTo, 6);
});

test('the largest proposal of several metrics wins; an AverageValue memory metric', (t) => {
  const mi = 1024 * 1024;
  // cpu at 50% of 50% -> 2; memory at 90 MiB against 30 MiB -> 6.
  const plan = planHPA(inputs(hpa({ metrics: [cpu(50), memAvg('30Mi')] }), 2, 50, { memBytes: 90 * mi }));
  t.is(plan.rescaleTo, 4); // legacy limit: double
  t.is(plan.status.desiredReplicas, 4);
  t.like(cond(plan, 'ScalingActive'), { reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from memory resource' });
  t.deepEqual(plan.status.currentMetrics?.[1], { type: 'Resource', resource: { name: 'memory', current: { averageValue: String(90 * mi) } } });
});

test('min and max replicas bound the target even without metrics', (t) => {
  const below = planHPA(inputs(hpa({ min: 3 }), 1, 50));
  t.is(below.rescaleTo, 3);
  t.regex(below.rescaleReason!, /below Spec.MinReplicas/);
  const above = planHPA(inputs(hpa({ max: 4 }), 7, 50));
  t.is(above.rescaleTo, 4);
  t.regex(above.rescaleReason!, /above Spec.MaxReplicas/);
});

test('a target scaled to zero disables autoscaling (ScalingActive=False ScalingDisabled)', (t) => {
  const plan = planHPA(inputs(hpa(), 0, 50));
  t.is(plan.rescaleTo, undefined);
  t.like(cond(plan, 'ScalingActive'), { status: 'False', reason: 'ScalingDisabled' });
});

test('a missing target: AbleToScale and ScalingActive False with FailedGetScale, a Warning event, no rescale', (t) => {
  const plan = planHPA({ ...inputs(hpa(), 1, 0), scale: { error: 'deployments.apps "web" not found' } });
  t.is(plan.rescaleTo, undefined);
  t.like(cond(plan, 'AbleToScale'), { status: 'False', reason: 'FailedGetScale' });
  t.like(cond(plan, 'ScalingActive'), { status: 'False', reason: 'FailedGetScale', message: 'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found' });
  t.deepEqual(plan.events, [{ type: 'Warning', reason: 'FailedGetScale', message: 'deployments.apps "web" not found' }]);
});

test('metrics that cannot be read: FailedGetResourceMetric; custom metric types say no custom metrics API is served', (t) => {
  const failing: HPAInputs = { ...inputs(hpa(), 2, 0), metrics: () => ({ error: 'no metrics returned from resource metrics API' }) };
  const plan = planHPA(failing);
  t.is(plan.rescaleTo, undefined);
  t.like(cond(plan, 'ScalingActive'), { status: 'False', reason: 'FailedGetResourceMetric' });
  t.regex(cond(plan, 'ScalingActive')!.message!, /unable to get metrics for resource cpu: no metrics returned/);
  const custom = hpa({ metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } }] });
  const c = planHPA(inputs(custom, 2, 0));
  t.like(cond(c, 'ScalingActive'), { status: 'False', reason: 'FailedGetPodsMetric' });
  t.regex(cond(c, 'ScalingActive')!.message!, /no custom or external metrics API/);
  // One good metric beside a failing one still scales on the good one.
  const mixed = planHPA(inputs(hpa({ metrics: [custom.spec.metrics![0], cpu(50)] }), 2, 100));
  t.is(mixed.rescaleTo, 4);
  t.like(cond(mixed, 'ScalingActive'), { status: 'True' });
  t.is(mixed.events[0].reason, 'FailedGetPodsMetric');
});

test('a condition keeps its lastTransitionTime while its status holds', (t) => {
  const first = planHPA(inputs(hpa(), 2, 50));
  const h = { ...hpa(), status: first.status };
  const second = planHPA(inputs(h, 2, 50, { memory: first.memory, now: NOW + 15 * S }));
  t.is(cond(second, 'ScalingActive')!.lastTransitionTime, cond(first, 'ScalingActive')!.lastTransitionTime);
});
