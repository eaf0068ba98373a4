// The disruption controller's decision (pkg/controller/disruption, pure): how many of a
// PodDisruptionBudget's Pods are expected, how many must stay healthy, how many are, and so how many
// may be disrupted now. Percentages and maxUnavailable scale with the replicas the Pods' controllers
// ask for (a Deployment's, not its ReplicaSet's); an integer minAvailable counts the Pods there are.
// Evictions the API admitted (status.disruptedPods) count as unhealthy until their Pod is seen going,
// or for two minutes at most.

import type { Condition, Pod, PodDisruptionBudget, PodDisruptionBudgetStatus } from '../../api/types.js';
import { DISRUPTED_POD_TIMEOUT_MS, isPodReady, scaledValue } from '../../api/disruption.js';

export interface PDBInputs {
  pdb: PodDisruptionBudget;
  /** The Pods the budget selects. */
  pods: Pod[];
  /**
   * The replicas each Pod's controller wants, by Pod name (undefined: the Pod has no controller with a
   * scale). Only read for percentages and maxUnavailable.
   */
  expectedScale(): { total: number } | { error: string };
  now: Date;
}

export interface PDBDecision {
  status?: PodDisruptionBudgetStatus;
  /** Why no status could be computed (an Event is worth it: NoControllers, CalculateExpectedPodCountFailed). */
  problem?: { reason: string; message: string };
  /** When a disrupted-pod entry expires, so the budget is looked at again then. */
  recheckAfterMs?: number;
}

function setCondition(conditions: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const list = conditions ?? [];
  const prev = list.find((c) => c.type === next.type);
  const merged: Condition = { ...next, lastTransitionTime: prev && prev.status === next.status ? (prev.lastTransitionTime ?? now) : now };
  return prev ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}

export function planPDB(input: PDBInputs): PDBDecision {
  const { pdb, pods, now } = input;
  const spec = pdb.spec ?? {};
  let expectedCount: number;
  let desiredHealthy: number;
  try {
    if (spec.maxUnavailable !== undefined) {
      const scale = input.expectedScale();
      if ('error' in scale) return { problem: { reason: 'CalculateExpectedPodCountFailed', message: `Failed to calculate the number of expected pods: ${scale.error}` } };
      expectedCount = scale.total;
      const maxUnavailable = scaledValue(spec.maxUnavailable, expectedCount, true);
      desiredHealthy = Math.max(0, expectedCount - maxUnavailable);
    } else if (typeof spec.minAvailable === 'number') {
      desiredHealthy = spec.minAvailable;
      expectedCount = pods.length;
    } else if (typeof spec.minAvailable === 'string') {
      const scale = input.expectedScale();
      if ('error' in scale) return { problem: { reason: 'CalculateExpectedPodCountFailed', message: `Failed to calculate the number of expected pods: ${scale.error}` } };
      expectedCount = scale.total;
      desiredHealthy = scaledValue(spec.minAvailable, expectedCount, true);
    } else {
      // Neither set: Kubernetes expects no pods, so nothing may be disrupted.
      desiredHealthy = 0;
      expectedCount = 0;
    }
  } catch (err) {
    return { problem: { reason: 'CalculateExpectedPodCountFailed', message: (err as Error).message } };
  }

  // Evictions admitted but not yet seen: kept while the Pod exists undeleted and the entry is fresh.
  const nowMs = now.getTime();
  const byName = new Map(pods.map((p) => [p.metadata.name!, p]));
  const disruptedPods: Record<string, string> = {};
  let recheckAfterMs: number | undefined;
  for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
    const pod = byName.get(name);
    if (!pod || pod.metadata.deletionTimestamp) continue;
    const expires = Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS;
    if (!(expires > nowMs)) continue;
    disruptedPods[name] = at;
    recheckAfterMs = Math.min(recheckAfterMs ?? Infinity, expires - nowMs);
  }
  let currentHealthy = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp || disruptedPods[pod.metadata.name!]) continue;
    if (isPodReady(pod)) currentHealthy++;
  }
  const disruptionsAllowed = expectedCount <= 0 ? 0 : Math.max(0, currentHealthy - desiredHealthy);
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = setCondition(
    pdb.status?.conditions,
    disruptionsAllowed > 0 ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: pdb.metadata.generation } : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: pdb.metadata.generation },
    stamp,
  );
  const status: PodDisruptionBudgetStatus = {
    observedGeneration: pdb.metadata.generation ?? 1,
    disruptionsAllowed,
    currentHealthy,
    desiredHealthy,
    expectedPods: expectedCount,
    conditions,
  };
  if (Object.keys(disruptedPods).length) status.disruptedPods = disruptedPods;
  return { status, recheckAfterMs };
}
