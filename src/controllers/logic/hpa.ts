// The horizontal pod autoscaler's decision (pkg/controller/podautoscaler/horizontal.go), pure: replicas
// per metric (the largest wins), then stabilisation (the highest recommendation of the scale-down
// window, the lowest of the scale-up window) and the rate limits of the behavior's policies (or, for
// HPAs without a behavior, the legacy rules: 5 minutes of down-scale stabilisation, at most double or
// +4 per sync), clamped to min/max; and the conditions AbleToScale, ScalingActive and ScalingLimited
// with Kubernetes' reasons. The loop keeps the recommendation and scale-event history between calls.

import type { Condition, HorizontalPodAutoscaler, HPAScalingRules, MetricSpec, MetricStatus, Pod } from '../../api/types.js';
import { parseQuantity } from '../../api/quantity.js';
import { defaultScalingRules } from '../../api/validation/defaults-policy.js';
import { MetricError, rawResourceReplicas, resourceReplicas, type PodMetric, type ResourceName } from './hpa-replicas.js';

export const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300;
const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;

export interface Recommendation {
  at: number;
  replicas: number;
}

export interface ScaleEvent {
  at: number;
  change: number;
}

/** What the loop remembers of one HPA between reconciles (upstream keeps it in the controller, too). */
export interface HPAMemory {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export const emptyMemory = (): HPAMemory => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

export interface HPAInputs {
  hpa: HorizontalPodAutoscaler;
  /** The target's scale: spec.replicas and the selector's Pods; an error when the target cannot be read. */
  scale: { replicas: number; pods: Pod[] } | { error: string; reason?: 'FailedGetScale' | 'InvalidSelector' };
  /** Pod metrics by Pod name, per resource (cpu in millicores, memory in bytes); undefined when the metrics API failed. */
  metrics: (resource: ResourceName, container?: string) => Map<string, PodMetric> | { error: string };
  memory: HPAMemory;
  now: number;
  downscaleStabilizationSeconds?: number;
}

export interface HPAPlan {
  /** Write spec.replicas of the target to this (undefined: leave it). */
  rescaleTo?: number;
  /** Why, for the SuccessfulRescale event. */
  rescaleReason?: string;
  status: NonNullable<HorizontalPodAutoscaler['status']>;
  memory: HPAMemory;
  /** Warnings worth an Event (FailedGetResourceMetric, FailedGetScale, ...). */
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

function setCondition(list: Condition[], type: string, status: 'True' | 'False', reason: string, message: string, now: string): Condition[] {
  const prev = list.find((c) => c.type === type);
  const next: Condition = { type, status, reason, message, lastTransitionTime: prev && prev.status === status ? (prev.lastTransitionTime ?? now) : now };
  return prev ? list.map((c) => (c.type === type ? next : c)) : [...list, next];
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function quantityText(resource: ResourceName, raw: number): string {
  return resource === 'cpu' ? `${raw}m` : String(raw);
}

function metricName(spec: MetricSpec): string {
  if (spec.type === 'Resource') return `${spec.resource!.name} resource${spec.resource!.target.type === 'Utilization' ? ' utilization (percentage of request)' : ''}`;
  if (spec.type === 'ContainerResource') return `${spec.containerResource!.name} container resource${spec.containerResource!.target.type === 'Utilization' ? ' utilization (percentage of request)' : ''}`;
  const m = spec.pods ?? spec.object ?? spec.external;
  return `${spec.type.toLowerCase()} metric ${m?.metric.name ?? ''}`;
}

interface MetricOutcome {
  replicas?: number;
  status?: MetricStatus;
  error?: { reason: string; message: string };
}

function replicasForMetric(spec: MetricSpec, input: HPAInputs, current: number, pods: Pod[]): MetricOutcome {
  const src = spec.type === 'Resource' ? spec.resource : spec.type === 'ContainerResource' ? spec.containerResource : undefined;
  if (!src) {
    const reason = spec.type === 'Pods' ? 'FailedGetPodsMetric' : spec.type === 'Object' ? 'FailedGetObjectMetric' : 'FailedGetExternalMetric';
    return { error: { reason, message: `the HPA was unable to compute the replica count: unable to get metric ${metricName(spec)}: no custom or external metrics API (custom.metrics.k8s.io, external.metrics.k8s.io) is served by kubelite` } };
  }
  const resource = src.name as ResourceName;
  const container = spec.type === 'ContainerResource' ? spec.containerResource!.container : undefined;
  const failReason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
  if (resource !== 'cpu' && resource !== 'memory') return { error: { reason: failReason, message: `the HPA was unable to compute the replica count: failed to get ${src.name} utilization: unable to get metrics for resource ${src.name}: only cpu and memory are measured` } };
  const metrics = input.metrics(resource, container);
  if ('error' in metrics && typeof metrics.error === 'string') {
    return { error: { reason: failReason, message: `the HPA was unable to compute the replica count: failed to get ${resource} utilization: unable to get metrics for resource ${resource}: ${metrics.error}` } };
  }
  const m = metrics as Map<string, PodMetric>;
  try {
    const t = src.target;
    if (t.type === 'Utilization') {
      const r = resourceReplicas({ currentReplicas: current, pods, metrics: m, resource, container, now: input.now, targetUtilization: t.averageUtilization ?? 80 });
      const currentValue = { averageUtilization: r.utilization, averageValue: quantityText(resource, r.rawAverage) };
      const status: MetricStatus = spec.type === 'Resource' ? { type: 'Resource', resource: { name: resource, current: currentValue } } : { type: 'ContainerResource', containerResource: { name: resource, container: container!, current: currentValue } };
      return { replicas: r.replicas, status };
    }
    const target = t.averageValue ?? t.value;
    if (target === undefined) throw new MetricError('the metric target has no averageValue');
    const per = parseQuantity(target as string | number);
    const r = rawResourceReplicas({ currentReplicas: current, pods, metrics: m, resource, container, now: input.now, targetAverage: resource === 'cpu' ? Math.ceil(per * 1000) : per });
    const currentValue = { averageValue: quantityText(resource, r.rawAverage) };
    const status: MetricStatus = spec.type === 'Resource' ? { type: 'Resource', resource: { name: resource, current: currentValue } } : { type: 'ContainerResource', containerResource: { name: resource, container: container!, current: currentValue } };
    return { replicas: r.replicas, status };
  } catch (err) {
    return { error: { reason: failReason, message: `the HPA was unable to compute the replica count: failed to get ${resource} utilization: ${(err as Error).message}` } };
  }
}

function changeInPeriod(periodSeconds: number, events: ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((a, e) => a + e.change, 0);
}

function scaleUpLimit(current: number, events: ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? Infinity : -Infinity;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return Number.isFinite(result) ? result : current;
}

function scaleDownLimit(current: number, events: ScaleEvent[], rules: HPAScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // For a scale-down, Min is the policy that changes least: the highest replica count.
  const pickHighest = rules.selectPolicy === 'Min';
  let result = pickHighest ? -Infinity : Infinity;
  for (const p of rules.policies ?? []) {
    const start = current + changeInPeriod(p.periodSeconds, events, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pickHighest ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return Number.isFinite(result) ? result : current;
}

/** Plans one reconcile of one HPA. */
export function planHPA(input: HPAInputs): HPAPlan {
  const { hpa, now } = input;
  const stamp = iso(now);
  const memory: HPAMemory = { recommendations: [...input.memory.recommendations], scaleUpEvents: [...input.memory.scaleUpEvents], scaleDownEvents: [...input.memory.scaleDownEvents] };
  const events: HPAPlan['events'] = [];
  let conditions = [...(hpa.status?.conditions ?? [])];
  const base = { observedGeneration: hpa.metadata.generation, lastScaleTime: hpa.status?.lastScaleTime, currentMetrics: hpa.status?.currentMetrics };
  const minReplicas = hpa.spec.minReplicas ?? 1;
  const maxReplicas = hpa.spec.maxReplicas;

  if ('error' in input.scale) {
    const reason = input.scale.reason ?? 'FailedGetScale';
    const message = reason === 'InvalidSelector' ? input.scale.error : `the HPA controller was unable to get the target's current scale: ${input.scale.error}`;
    conditions = setCondition(conditions, 'AbleToScale', reason === 'FailedGetScale' ? 'False' : 'True', reason === 'FailedGetScale' ? 'FailedGetScale' : 'SucceededGetScale', reason === 'FailedGetScale' ? message : "the HPA controller was able to get the target's current scale", stamp);
    conditions = setCondition(conditions, 'ScalingActive', 'False', reason, message, stamp);
    events.push({ type: 'Warning', reason, message: input.scale.error });
    return { status: { ...base, currentReplicas: hpa.status?.currentReplicas ?? 0, desiredReplicas: hpa.status?.desiredReplicas ?? 0, conditions }, memory, events };
  }
  const current = input.scale.replicas;
  conditions = setCondition(conditions, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale", stamp);

  let desired: number;
  let reason = '';
  let metricStatuses = hpa.status?.currentMetrics;
  if (current === 0 && minReplicas !== 0) {
    desired = 0;
    conditions = setCondition(conditions, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', stamp);
  } else if (current > maxReplicas) {
    desired = maxReplicas;
    reason = 'Current number of replicas above Spec.MaxReplicas';
  } else if (current < minReplicas) {
    desired = minReplicas;
    reason = 'Current number of replicas below Spec.MinReplicas';
  } else {
    // computeReplicasForMetrics: the largest proposal of the metrics that could be computed.
    let proposal = -1;
    let proposalName = '';
    const statuses: MetricStatus[] = [];
    let firstError: MetricOutcome['error'];
    let invalid = 0;
    for (const spec of hpa.spec.metrics ?? []) {
      const o = replicasForMetric(spec, input, current, input.scale.pods);
      if (o.error) {
        invalid++;
        firstError ??= o.error;
        events.push({ type: 'Warning', reason: o.error.reason, message: o.error.message });
        statuses.push({ type: spec.type });
        continue;
      }
      statuses.push(o.status!);
      if (o.replicas! > proposal) {
        proposal = o.replicas!;
        proposalName = metricName(spec);
      }
    }
    metricStatuses = statuses.filter((s) => s.resource || s.containerResource || s.pods || s.object || s.external);
    if (invalid === (hpa.spec.metrics ?? []).length || proposal < 0) {
      const e = firstError ?? { reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count: no metrics' };
      conditions = setCondition(conditions, 'ScalingActive', 'False', e.reason, e.message, stamp);
      return { status: { ...base, currentMetrics: metricStatuses.length ? metricStatuses : undefined, currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? current, conditions }, memory, events };
    }
    conditions = setCondition(conditions, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${proposalName}`, stamp);
    const norm = hpa.spec.behavior ? normalizeWithBehaviors(hpa, memory, current, proposal, minReplicas, maxReplicas, now, input.downscaleStabilizationSeconds) : normalizeLegacy(memory, current, proposal, minReplicas, maxReplicas, now, input.downscaleStabilizationSeconds);
    desired = norm.desired;
    conditions = setCondition(conditions, 'AbleToScale', 'True', norm.ableReason, norm.ableMessage, stamp);
    conditions = setCondition(conditions, 'ScalingLimited', norm.limited ? 'True' : 'False', norm.limitReason, norm.limitMessage, stamp);
    if (desired !== current) reason = desired > current ? `${proposalName} above target` : 'All metrics below target';
  }

  const status: HPAPlan['status'] = { ...base, currentMetrics: metricStatuses?.length ? metricStatuses : undefined, currentReplicas: current, desiredReplicas: desired, conditions };
  if (desired === current) return { status, memory, events };
  status.lastScaleTime = stamp;
  // Scale events for the behavior's rate limits (the loop drops them again if the write fails).
  const change = desired - current;
  const longest = (rules?: HPAScalingRules) => Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds)) * 1000;
  if (change > 0) memory.scaleUpEvents = [...memory.scaleUpEvents.filter((e) => e.at > now - longest(hpa.spec.behavior?.scaleUp)), { at: now, change }];
  else memory.scaleDownEvents = [...memory.scaleDownEvents.filter((e) => e.at > now - longest(hpa.spec.behavior?.scaleDown)), { at: now, change: -change }];
  return { rescaleTo: desired, rescaleReason: reason, status, memory, events: [...events, { type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desired}; reason: ${reason}` }] };
}

interface Normalized {
  desired: number;
  ableReason: string;
  ableMessage: string;
  limited: boolean;
  limitReason: string;
  limitMessage: string;
}

/** normalizeDesiredReplicas: an HPA without a behavior. */
function normalizeLegacy(memory: HPAMemory, current: number, proposal: number, min: number, max: number, now: number, windowSeconds = 300): Normalized {
  const cutoff = now - windowSeconds * 1000;
  let stabilized = proposal;
  for (const r of memory.recommendations) if (r.at > cutoff) stabilized = Math.max(stabilized, r.replicas);
  memory.recommendations = [...memory.recommendations.filter((r) => r.at > cutoff), { at: now, replicas: proposal }];
  const able = stabilized !== proposal ? { ableReason: 'ScaleDownStabilized', ableMessage: 'recent recommendations were higher than current one, applying the highest recent recommendation' } : { ableReason: 'ReadyForNewScale', ableMessage: 'recommended size matches current size' };
  const upLimit = Math.max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM);
  let desired = stabilized;
  let limitReason = 'DesiredWithinRange';
  let limitMessage = 'the desired count is within the acceptable range';
  if (stabilized < min) {
    desired = min;
    limitReason = 'TooFewReplicas';
    limitMessage = 'the desired replica count is less than the minimum replica count';
  } else {
    const maximum = Math.min(upLimit, max);
    if (stabilized > maximum) {
      desired = maximum;
      [limitReason, limitMessage] = upLimit < max ? ['ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'] : ['TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    }
  }
  return { desired, ...able, limited: desired !== stabilized, limitReason, limitMessage };
}

/** normalizeDesiredReplicasWithBehaviors: stabilisation windows and rate policies. */
function normalizeWithBehaviors(hpa: HorizontalPodAutoscaler, memory: HPAMemory, current: number, proposal: number, min: number, max: number, now: number, defaultDownWindow = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS): Normalized {
  const up = defaultScalingRules(hpa.spec.behavior?.scaleUp, 'up') as HPAScalingRules;
  const down = defaultScalingRules(hpa.spec.behavior?.scaleDown, 'down') as HPAScalingRules;
  const upWindow = up.stabilizationWindowSeconds ?? 0;
  const downWindow = down.stabilizationWindowSeconds ?? defaultDownWindow;
  const upCutoff = now - upWindow * 1000;
  const downCutoff = now - downWindow * 1000;
  let upRec = proposal;
  let downRec = proposal;
  for (const r of memory.recommendations) {
    if (r.at > upCutoff) upRec = Math.min(upRec, r.replicas);
    if (r.at > downCutoff) downRec = Math.max(downRec, r.replicas);
  }
  let stabilized = current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  const keepAfter = Math.min(upCutoff, downCutoff);
  memory.recommendations = [...memory.recommendations.filter((r) => r.at > keepAfter), { at: now, replicas: proposal }];
  const able =
    stabilized !== proposal
      ? proposal >= current
        ? { ableReason: 'ScaleUpStabilized', ableMessage: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
        : { ableReason: 'ScaleDownStabilized', ableMessage: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { ableReason: 'ReadyForNewScale', ableMessage: 'recommended size matches current size' };

  let desired = stabilized;
  let limitReason = 'DesiredWithinRange';
  let limitMessage = 'the desired count is within the acceptable range';
  if (stabilized > current) {
    const limit = Math.max(scaleUpLimit(current, memory.scaleUpEvents, up, now), current);
    let maximum = max;
    [limitReason, limitMessage] = ['TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    if (maximum > limit) {
      maximum = limit;
      [limitReason, limitMessage] = ['ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'];
    }
    if (stabilized > maximum) desired = maximum;
    else [limitReason, limitMessage] = ['DesiredWithinRange', 'the desired count is within the acceptable range'];
  } else if (stabilized < current) {
    const limit = Math.min(scaleDownLimit(current, memory.scaleDownEvents, down, now), current);
    let minimum = min;
    [limitReason, limitMessage] = ['TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
    if (minimum < limit) {
      minimum = limit;
      [limitReason, limitMessage] = ['ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate'];
    }
    if (stabilized < minimum) desired = minimum;
    else [limitReason, limitMessage] = ['DesiredWithinRange', 'the desired count is within the acceptable range'];
  }
  // min/max hold whatever the rates say (upstream clamps inside the rate step the same way).
  if (desired > max) desired = max;
  if (desired < min) desired = min;
  return { desired, ...able, limited: desired !== stabilized, limitReason, limitMessage };
}
