// The replica calculator of the horizontal pod autoscaler (pkg/controller/podautoscaler/
// replica_calculator.go), pure: from the target's Pods, their resource metrics and their requests, how
// many replicas bring the average utilisation (or value) to the target. As upstream: deleted and failed
// Pods are ignored; Pending Pods, and for CPU Pods not yet ready (or just started), count as unready;
// Pods without metrics as missing. Within the tolerance (0.1) nothing changes; when scaling would be
// driven by guesses, missing Pods are assumed at 100% of their request on a scale-down and 0% on a
// scale-up, unready Pods at 0% on a scale-up, and if that flips the direction nothing changes.

import type { Pod } from '../../api/types.js';
import { parseQuantity } from '../../api/quantity.js';

export const DEFAULT_TOLERANCE = 0.1;
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
export const DELAY_OF_INITIAL_READINESS_STATUS_MS = 30_000;

export type ResourceName = 'cpu' | 'memory';

/** A Pod's usage of one resource: cpu in millicores, memory in bytes (as upstream's int64 values). */
export interface PodMetric {
  value: number;
  /** ms since epoch */
  timestamp: number;
  windowMs: number;
}

export interface ReplicaResult {
  replicas: number;
  /** Average utilisation in percent of requests (utilisation targets). */
  utilization?: number;
  /** Average raw usage per Pod (millicores or bytes). */
  rawAverage: number;
  timestamp: number;
}

export class MetricError extends Error {}

function podReadyCondition(pod: Pod) {
  return (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
}

/** Requests of `resource` summed over the Pod's containers (or the one container named). */
export function podRequests(pods: Pod[], resource: ResourceName, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let total = 0;
    for (const c of pod.spec?.containers ?? []) {
      if (container && c.name !== container) continue;
      const q = c.resources?.requests?.[resource];
      if (q === undefined) throw new MetricError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      const v = parseQuantity(q as string | number);
      total += resource === 'cpu' ? Math.ceil(v * 1000) : Math.round(v);
    }
    out.set(pod.metadata.name!, total);
  }
  return out;
}

interface Grouped {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

function groupPods(pods: Pod[], metrics: Map<string, PodMetric>, resource: ResourceName, now: number): Grouped {
  const g: Grouped = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending' || !pod.status?.phase) {
      g.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const cond = podReadyCondition(pod);
      const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
      let unready: boolean;
      if (!cond || Number.isNaN(start)) unready = true;
      else {
        const transition = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : start;
        if (start + CPU_INITIALIZATION_PERIOD_MS > now) {
          // Within its initialisation: unready, or ready so recently that the sample may predate it.
          unready = cond.status === 'False' || metric.timestamp < transition + metric.windowMs;
        } else {
          unready = cond.status === 'False' && start + DELAY_OF_INITIAL_READINESS_STATUS_MS > transition;
        }
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyPodCount++;
  }
  return g;
}

function utilizationRatio(metrics: Map<string, PodMetric>, requests: Map<string, number>, target: number): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let n = 0;
  for (const [name, m] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += r;
    n++;
  }
  if (requestsTotal === 0) throw new MetricError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / target, utilization, rawAverage: Math.trunc(metricsTotal / n) };
}

export interface ReplicaInput {
  currentReplicas: number;
  pods: Pod[];
  metrics: Map<string, PodMetric>;
  resource: ResourceName;
  container?: string;
  now: number;
  tolerance?: number;
}

/** GetResourceReplicas: replicas for a target average utilisation (percent of requests). */
export function resourceReplicas(input: ReplicaInput & { targetUtilization: number }): ReplicaResult {
  const { currentReplicas, pods, resource, now } = input;
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  if (pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
  const metrics = new Map(input.metrics);
  const g = groupPods(pods, metrics, resource, now);
  for (const name of [...g.ignored, ...g.unready]) metrics.delete(name);
  for (const name of metrics.keys()) if (!pods.some((p) => p.metadata.name === name)) metrics.delete(name);
  if (metrics.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');
  const requests = podRequests(pods, resource, input.container);
  const timestamp = Math.max(...[...metrics.values()].map((m) => m.timestamp));
  const first = utilizationRatio(metrics, requests, input.targetUtilization);
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1.0;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1.0 - first.ratio) <= tolerance) return { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage, timestamp };
    return { replicas: Math.ceil(first.ratio * g.readyPodCount), utilization: first.utilization, rawAverage: first.rawAverage, timestamp };
  }
  if (g.missing.size > 0) {
    // Scaling down: missing Pods count as using all they requested; scaling up: nothing.
    for (const name of g.missing) metrics.set(name, { value: first.ratio < 1.0 ? (requests.get(name) ?? 0) : 0, timestamp, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, { value: 0, timestamp, windowMs: 0 });
  const next = utilizationRatio(metrics, requests, input.targetUtilization);
  if (Math.abs(1.0 - next.ratio) <= tolerance || (first.ratio < 1.0 && next.ratio > 1.0) || (first.ratio > 1.0 && next.ratio < 1.0)) {
    return { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage, timestamp };
  }
  const replicas = Math.ceil(next.ratio * metrics.size);
  if ((next.ratio < 1.0 && replicas > currentReplicas) || (next.ratio > 1.0 && replicas < currentReplicas)) {
    return { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage, timestamp };
  }
  return { replicas, utilization: first.utilization, rawAverage: first.rawAverage, timestamp };
}

/** GetRawResourceReplicas: replicas for a target average value per Pod (millicores or bytes). */
export function rawResourceReplicas(input: ReplicaInput & { targetAverage: number }): ReplicaResult {
  const { currentReplicas, pods, resource, now } = input;
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  if (pods.length === 0) throw new MetricError('no pods returned by selector while calculating replica count');
  const metrics = new Map(input.metrics);
  const g = groupPods(pods, metrics, resource, now);
  for (const name of [...g.ignored, ...g.unready]) metrics.delete(name);
  for (const name of metrics.keys()) if (!pods.some((p) => p.metadata.name === name)) metrics.delete(name);
  if (metrics.size === 0) throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');
  const timestamp = Math.max(...[...metrics.values()].map((m) => m.timestamp));
  const total = (m: Map<string, PodMetric>) => [...m.values()].reduce((a, x) => a + x.value, 0);
  const usage = total(metrics);
  const ratio = usage / (input.targetAverage * metrics.size);
  const rawAverage = Math.trunc(usage / metrics.size);
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1.0 - ratio) <= tolerance) return { replicas: currentReplicas, rawAverage, timestamp };
    return { replicas: Math.ceil(ratio * g.readyPodCount), rawAverage, timestamp };
  }
  if (g.missing.size > 0) for (const name of g.missing) metrics.set(name, { value: ratio < 1.0 ? input.targetAverage : 0, timestamp, windowMs: 0 });
  if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, { value: 0, timestamp, windowMs: 0 });
  const nextRatio = total(metrics) / (input.targetAverage * metrics.size);
  if (Math.abs(1.0 - nextRatio) <= tolerance || (ratio < 1.0 && nextRatio > 1.0) || (ratio > 1.0 && nextRatio < 1.0)) return { replicas: currentReplicas, rawAverage, timestamp };
  const replicas = Math.ceil(nextRatio * metrics.size);
  if ((nextRatio < 1.0 && replicas > currentReplicas) || (nextRatio > 1.0 && replicas < currentReplicas)) return { replicas: currentReplicas, rawAverage, timestamp };
  return { replicas, rawAverage, timestamp };
}
