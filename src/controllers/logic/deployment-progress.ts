// Status and progress (progress.go): the counts, the Available, Progressing and ReplicaFailure
// conditions, the progress deadline, the paused condition, and when to look again.

import type { Condition, DeploymentStatus } from '../../api/types.js';
import { sum, type Sync, type View } from './deployment-sync.js';
import { REASON, getCondition, maxUnavailable, newCondition, progressDeadlineSeconds, removeCondition, setCondition } from './deployment-util.js';
import { isPodActive, podAvailableAt } from './pod-status.js';
import { parseTime } from './time.js';

/** DeploymentComplete against a status. */
export function complete(sync: Sync, s: DeploymentStatus): boolean {
  return (
    (s.updatedReplicas ?? 0) === sync.replicas &&
    (s.replicas ?? 0) === sync.replicas &&
    (s.availableReplicas ?? 0) === sync.replicas &&
    (s.observedGeneration ?? 0) >= (sync.d.metadata.generation ?? 0)
  );
}

export function calculateStatus(sync: Sync, all: (View | undefined)[], newRS: View | undefined): DeploymentStatus {
  const views = all.filter((v): v is View => !!v);
  const available = sum(views, (v) => v.availablePods);
  const total = sum(views, (v) => v.replicas);
  const s: DeploymentStatus = {
    observedGeneration: sync.d.metadata.generation,
    replicas: sum(views, (v) => v.activePods),
    updatedReplicas: newRS ? newRS.activePods : 0,
    readyReplicas: sum(views, (v) => v.readyPods),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    collisionCount: sync.status.collisionCount,
    conditions: (sync.status.conditions ?? []).map((c) => ({ ...c })),
  };
  if (s.observedGeneration === undefined) delete s.observedGeneration;
  if (s.collisionCount === undefined) delete s.collisionCount;
  if (available >= sync.replicas - maxUnavailable(sync.d)) {
    setCondition(s, newCondition('Available', 'True', REASON.minimumReplicasAvailable, 'Deployment has minimum availability.', sync.now));
  } else {
    setCondition(s, newCondition('Available', 'False', REASON.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', sync.now));
  }
  return s;
}

export function syncDeploymentStatus(sync: Sync, all: (View | undefined)[], newRS: View | undefined): void {
  sync.finalStatus = calculateStatus(sync, all, newRS);
}

export function syncRolloutStatus(sync: Sync, all: (View | undefined)[], newRS: View | undefined): void {
  const s = calculateStatus(sync, all, newRS);
  const deadline = progressDeadlineSeconds(sync.d);
  if (deadline === undefined) removeCondition(s, 'Progressing');
  const cur = getCondition(sync.status, 'Progressing');
  const isComplete = (s.replicas ?? 0) === (s.updatedReplicas ?? 0) && cur?.reason === REASON.newReplicaSetAvailable;
  if (deadline !== undefined && !isComplete) {
    const rsName = newRS?.name;
    if (complete(sync, s)) {
      const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${sync.d.metadata.name}" has successfully progressed.`;
      setCondition(s, newCondition('Progressing', 'True', REASON.newReplicaSetAvailable, msg, sync.now));
    } else if (progressing(sync, s)) {
      const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${sync.d.metadata.name}" is progressing.`;
      const c = newCondition('Progressing', 'True', REASON.replicaSetUpdated, msg, sync.now);
      // Progress refreshes lastUpdateTime even when the reason stays the same.
      if (cur) {
        if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(s, 'Progressing');
      }
      setCondition(s, c);
    } else if (timedOut(sync, s, deadline)) {
      const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${sync.d.metadata.name}" has timed out progressing.`;
      setCondition(s, newCondition('Progressing', 'False', REASON.progressDeadlineExceeded, msg, sync.now));
    }
  }
  // ReplicaSet failures (a quota, an admission refusal) surface on the Deployment.
  const failure = replicaFailure(sync, all, newRS);
  if (failure) setCondition(s, failure);
  else removeCondition(s, 'ReplicaFailure');
  sync.finalStatus = s;
}

export function replicaFailure(sync: Sync, all: (View | undefined)[], newRS: View | undefined): Condition | undefined {
  const pick = (v: View | undefined) => v?.rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const fromNew = pick(newRS);
  const c = fromNew ?? all.map(pick).find((x) => x);
  if (!c) return undefined;
  const t = c.lastTransitionTime;
  return { type: 'ReplicaFailure', status: c.status, reason: c.reason, message: c.message, lastUpdateTime: t, lastTransitionTime: t };
}

export function progressing(sync: Sync, s: DeploymentStatus): boolean {
  const o = sync.d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
  );
}

export function timedOut(sync: Sync, s: DeploymentStatus, deadline: number): boolean {
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === REASON.newReplicaSetAvailable) return false;
  if (c.reason === REASON.progressDeadlineExceeded) return true;
  const from = parseTime(c.lastUpdateTime);
  if (from === undefined) return false;
  return from + deadline * 1000 < sync.nowMs;
}

/** When to look again: a pod turning available, or the progress deadline of a stuck rollout. */
export function requeueAfter(sync: Sync, status: DeploymentStatus): number | undefined {
  let next: number | undefined;
  const consider = (t: number | undefined) => {
    if (t !== undefined && (next === undefined || t < next)) next = t;
  };
  for (const v of sync.views) {
    if (v.isNew) continue;
    for (const p of (v.uid && sync.podsByRS.get(v.uid)) || []) {
      if (isPodActive(p)) consider(podAvailableAt(p, v.minReadySeconds, sync.now)?.getTime());
    }
  }
  const deadline = progressDeadlineSeconds(sync.d);
  const cur = getCondition(status, 'Progressing');
  if (deadline !== undefined && !sync.d.spec.paused && cur && !complete(sync, status) && cur.reason !== REASON.progressDeadlineExceeded) {
    const from = parseTime(cur.lastUpdateTime);
    // One second past the deadline, since the timeout test is strict.
    if (from !== undefined) consider(Math.max(sync.nowMs, from + deadline * 1000 + 1000));
  }
  if (next === undefined) return undefined;
  return Math.max(1, Math.ceil((next - sync.nowMs) / 1000));
}

export function checkPausedConditions(s: Sync): void {
  if (progressDeadlineSeconds(s.d) === undefined) return;
  const cond = getCondition(s.status, 'Progressing');
  if (cond?.reason === REASON.progressDeadlineExceeded) return;
  const pausedExists = cond?.reason === REASON.deploymentPaused;
  if (s.d.spec.paused && !pausedExists) {
    setCondition(s.status, newCondition('Progressing', 'Unknown', REASON.deploymentPaused, 'Deployment is paused', s.now));
  } else if (!s.d.spec.paused && pausedExists) {
    setCondition(s.status, newCondition('Progressing', 'Unknown', REASON.deploymentResumed, 'Deployment is resumed', s.now));
  }
}
