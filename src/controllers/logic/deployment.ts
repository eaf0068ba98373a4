// The Deployment controller's decision, Kubernetes' syncDeployment (pkg/controller/deployment) as a
// pure function: given the Deployment, the ReplicaSets it owns and their pods, it returns what one
// sync would do: create the new ReplicaSet, scale ReplicaSets, delete old ones beyond
// revisionHistoryLimit, and the status to write. Level-triggered: the caller applies the plan and
// calls again when anything changes; each call only takes steps that are safe from the state it sees.
//
// One deliberate difference: Kubernetes reads availability from ReplicaSet status; here it comes from
// the pods, and a ReplicaSet's available pods count at most up to its spec.replicas (the surplus is
// about to be deleted), so a stale view can only slow a rollout down, never over-scale-down.


import type { Deployment, DeploymentStatus, Pod, ReplicaSet } from '../../api/types.js';
import { canonicalJSON, isRollingUpdate } from './deployment-util.js';
import { controllerRef } from './pod-status.js';
import { statusEqual } from './status-equal.js';
import { Sync, type ReplicaSetUpdate, type RolloutPlan } from './deployment-sync.js';
import { cleanup } from './deployment-history.js';
import { checkPausedConditions, requeueAfter, syncDeploymentStatus } from './deployment-progress.js';
import { rolloutRecreate } from './deployment-recreate.js';
import { rolloutRolling } from './deployment-rolling.js';

export { podTemplateHash } from './deployment-util.js';
export { newReplicaSetFor, type PlanEvent, type ReplicaSetUpdate, type RolloutPlan } from './deployment-sync.js';

function sync(s: Sync): void {
  const { newRS, old } = s.getAll(false);
  s.scale(newRS, old);
  if (s.d.spec.paused) cleanup(s, old);
  syncDeploymentStatus(s, [...old, newRS], newRS);
}



function isEmptySelector(d: Deployment): boolean {
  const sel = d.spec.selector;
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

/**
 * The next step of a Deployment. `replicaSets` are the ones it owns (claimReplicaSets); `podsByRS`
 * maps each ReplicaSet uid to the pods it controls, terminal and terminating ones included (a missing
 * entry means no pods). Apply `create`, then `scale` in order, then `deleteOld`, then write `status`
 * (if `statusChanged`) and `annotations` on the Deployment; then call again on the next change.
 * On AlreadyExists when creating, re-list: if the existing ReplicaSet is not this Deployment's with the
 * same template, bump status.collisionCount so the next call picks another name.
 */
export function planRollout(deploy: Deployment, replicaSets: readonly ReplicaSet[], podsByRS: ReadonlyMap<string, readonly Pod[]>, now: Date): RolloutPlan {
  const s = new Sync(deploy, replicaSets, podsByRS, now);
  const d = deploy;
  if (isEmptySelector(d)) {
    s.events.push({ type: 'Warning', reason: 'SelectingAll', message: 'This deployment is selecting all pods. A non-empty selector is required.' });
    const status = { ...(d.status ?? {}) };
    if ((status.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) status.observedGeneration = d.metadata.generation;
    return finish(s, status);
  }
  if (d.metadata.deletionTimestamp) {
    const { newRS, old } = s.getAll(false);
    syncDeploymentStatus(s, [...old, newRS], newRS);
  } else {
    checkPausedConditions(s);
    if (d.spec.paused || s.isScalingEvent()) sync(s);
    else if (isRollingUpdate(d)) rolloutRolling(s);
    else rolloutRecreate(s);
  }
  return finish(s, s.finalStatus ?? s.status);
}

function finish(s: Sync, status: DeploymentStatus): RolloutPlan {
  const plan: RolloutPlan = {
    scale: [],
    deleteOld: s.deleteOld,
    status,
    statusChanged: !statusEqual(s.d.status, status),
    events: s.events,
  };
  for (const v of s.touched) {
    if (v.isNew) {
      const rs = structuredClone(v.rs);
      rs.spec.replicas = v.replicas;
      rs.metadata.annotations = { ...v.annotations };
      plan.create = rs;
      continue;
    }
    const u: ReplicaSetUpdate = { rs: v.name, replicas: v.replicas };
    if (canonicalJSON(v.annotations) !== canonicalJSON(v.rs.metadata.annotations ?? {})) u.annotations = { ...v.annotations };
    if (v.minReadySeconds !== (v.rs.spec.minReadySeconds ?? 0)) u.minReadySeconds = v.minReadySeconds;
    plan.scale.push(u);
  }
  if (s.deployAnnotations) plan.annotations = s.deployAnnotations;
  const after = requeueAfter(s, status);
  if (after !== undefined) plan.requeueAfterSeconds = after;
  return plan;
}

/** The pods of each ReplicaSet by uid, from the pods' controller references (getPodMapForDeployment). */
export function podsByReplicaSet(replicaSets: readonly ReplicaSet[], pods: readonly Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const rs of replicaSets) if (rs.metadata.uid) out.set(rs.metadata.uid, []);
  for (const p of pods) {
    const ref = controllerRef(p);
    if (ref) out.get(ref.uid)?.push(p);
  }
  return out;
}
