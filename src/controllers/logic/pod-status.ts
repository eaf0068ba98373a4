// The pod predicates every controller shares (Kubernetes' podutil and controller helpers).

import type { Condition, ObjectMeta, OwnerReference, Pod } from '../../api/types.js';
import { parseTime } from './time.js';

export function podReadyCondition(pod: Pod): Condition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Succeeded or Failed: the pod will never run again. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Counts toward a controller's replicas: not terminal and not being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** When the pod last became Ready, or undefined if it is not ready (or the time is unknown). */
export function podReadyTime(pod: Pod): Date | undefined {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return undefined;
  const t = parseTime(c.lastTransitionTime);
  return t === undefined ? undefined : new Date(t);
}

/**
 * Ready for at least minReadySeconds at `now`. With minReadySeconds 0 readiness is enough; otherwise a
 * ready pod with no transition time is not yet available, as in Kubernetes.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const t = podReadyTime(pod);
  return t !== undefined && t.getTime() + minReadySeconds * 1000 <= now.getTime();
}

/**
 * When a ready pod that is not yet available will become so, or undefined (not ready, already
 * available, or unknown): the time a controller should look again.
 */
export function podAvailableAt(pod: Pod, minReadySeconds: number, now: Date): Date | undefined {
  if (!minReadySeconds || !isPodReady(pod)) return undefined;
  const t = podReadyTime(pod);
  if (t === undefined) return undefined;
  const at = t.getTime() + minReadySeconds * 1000;
  return at > now.getTime() ? new Date(at) : undefined;
}

export function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const s of pod.status?.containerStatuses ?? []) max = Math.max(max, s.restartCount ?? 0);
  return max;
}

/** The controlling owner reference, if any. */
export function controllerRef(obj: { metadata: ObjectMeta }): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}
