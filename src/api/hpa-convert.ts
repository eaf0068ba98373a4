// autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler, as Kubernetes converts them
// (pkg/apis/autoscaling/v1/conversion.go): v1 holds only the CPU utilisation target; everything else
// of v2 rides along in annotations, so a v1 client that reads and writes an object loses nothing.
// Pure.

import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerV1, KObject, MetricSpec, MetricStatus } from './types.js';

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ANNOTATIONS = [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

const isCpuUtilization = (m: MetricSpec) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.type === 'Utilization' && m.resource.target.averageUtilization !== undefined;

function parse<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** The stored v2 object as autoscaling/v1 shows it. */
export function hpaToV1(obj: KObject): KObject {
  const h = obj as HorizontalPodAutoscaler;
  const annotations: Record<string, string> = { ...(h.metadata.annotations ?? {}) };
  const metrics = h.spec?.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length) annotations[METRICS_ANNOTATION] = JSON.stringify(others);
  if (h.spec?.behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(h.spec.behavior);
  const current = h.status?.currentMetrics ?? [];
  const cpuNow = current.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current.averageUtilization !== undefined);
  const otherNow = current.filter((m) => m !== cpuNow);
  if (otherNow.length) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(otherNow);
  if (h.status?.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(h.status.conditions);
  const spec: HorizontalPodAutoscalerV1['spec'] = { scaleTargetRef: h.spec.scaleTargetRef, maxReplicas: h.spec.maxReplicas };
  if (h.spec.minReplicas !== undefined) spec.minReplicas = h.spec.minReplicas;
  if (cpu) spec.targetCPUUtilizationPercentage = cpu.resource!.target.averageUtilization;
  const out: HorizontalPodAutoscalerV1 = {
    ...(h as KObject),
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...h.metadata, annotations },
    spec,
  };
  if (Object.keys(annotations).length === 0) delete out.metadata.annotations;
  if (h.status) {
    const status: NonNullable<HorizontalPodAutoscalerV1['status']> = { currentReplicas: h.status.currentReplicas ?? 0, desiredReplicas: h.status.desiredReplicas ?? 0 };
    if (h.status.observedGeneration !== undefined) status.observedGeneration = h.status.observedGeneration;
    if (h.status.lastScaleTime) status.lastScaleTime = h.status.lastScaleTime;
    if (cpuNow) status.currentCPUUtilizationPercentage = cpuNow.resource!.current.averageUtilization;
    out.status = status;
  }
  return out;
}

/** An autoscaling/v1 object as the stored v2 (the annotations v1 carried folded back in). */
export function hpaFromV1(obj: KObject): KObject {
  const h = obj as HorizontalPodAutoscalerV1;
  const annotations: Record<string, string> = { ...(h.metadata?.annotations ?? {}) };
  const spec = (h.spec ?? {}) as HorizontalPodAutoscalerV1['spec'];
  const metrics: MetricSpec[] = [];
  if (spec.targetCPUUtilizationPercentage !== undefined) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  metrics.push(...(parse<MetricSpec[]>(annotations[METRICS_ANNOTATION]) ?? []));
  const behavior = parse<HorizontalPodAutoscaler['spec']['behavior']>(annotations[BEHAVIOR_ANNOTATION]);
  const currentOthers = parse<MetricStatus[]>(annotations[CURRENT_METRICS_ANNOTATION]) ?? [];
  const conditions = parse<NonNullable<HorizontalPodAutoscaler['status']>['conditions']>(annotations[CONDITIONS_ANNOTATION]);
  for (const a of ANNOTATIONS) delete annotations[a];
  const out: KObject = {
    ...(h as KObject),
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...(h.metadata ?? {}), annotations },
  };
  if (Object.keys(annotations).length === 0) delete out.metadata.annotations;
  const v2spec: Record<string, unknown> = { scaleTargetRef: spec.scaleTargetRef, maxReplicas: spec.maxReplicas };
  if (spec.minReplicas !== undefined) v2spec.minReplicas = spec.minReplicas;
  if (metrics.length) v2spec.metrics = metrics;
  if (behavior) v2spec.behavior = behavior;
  out.spec = v2spec;
  if (h.status) {
    const current: MetricStatus[] = [];
    if (h.status.currentCPUUtilizationPercentage !== undefined) {
      current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: h.status.currentCPUUtilizationPercentage } } });
    }
    current.push(...currentOthers);
    const status: Record<string, unknown> = { desiredReplicas: h.status.desiredReplicas ?? 0 };
    if (h.status.currentReplicas !== undefined) status.currentReplicas = h.status.currentReplicas;
    if (h.status.observedGeneration !== undefined) status.observedGeneration = h.status.observedGeneration;
    if (h.status.lastScaleTime) status.lastScaleTime = h.status.lastScaleTime;
    if (current.length) status.currentMetrics = current;
    if (conditions?.length) status.conditions = conditions;
    out.status = status;
  } else delete out.status;
  return out;
}
