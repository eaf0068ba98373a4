// The RollingUpdate strategy (rolling.go): grow the new ReplicaSet within maxSurge, shrink the old ones
// within maxUnavailable, unhealthy old pods first.

import { active, avail, byCreation, sum, type Sync, type View } from './deployment-sync.js';
import { maxUnavailable } from './deployment-util.js';
import { cleanup } from './deployment-history.js';
import { complete, syncRolloutStatus } from './deployment-progress.js';

export function reconcileNewReplicaSet(s: Sync, all: View[], newRS: View): boolean {
  if (newRS.replicas === s.replicas) return false;
  if (newRS.replicas > s.replicas) return s.scaleAndRecord(newRS, s.replicas);
  return s.scaleAndRecord(newRS, s.newRSNewReplicas(all, newRS));
}

export function reconcileOldReplicaSets(s: Sync, all: View[], oldActive: View[], newRS: View): boolean {
  if (sum(oldActive, (v) => v.replicas) === 0) return false;
  const allPods = sum(all, (v) => v.replicas);
  const minAvailable = s.replicas - maxUnavailable(s.d);
  const newUnavailable = newRS.replicas - avail(newRS);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  // Unhealthy old pods go first: removing them costs no availability, and they could block the
  // rollout forever (kubernetes#16737).
  const cleaned = cleanupUnhealthyReplicas(s, oldActive, maxScaledDown);
  const scaledDown = scaleDownOldForRollingUpdate(s, [...oldActive, newRS], oldActive);
  return cleaned + scaledDown > 0;
}

export function cleanupUnhealthyReplicas(s: Sync, old: View[], maxCleanup: number): number {
  let total = 0;
  for (const v of [...old].sort(byCreation)) {
    if (total >= maxCleanup) break;
    if (v.replicas === 0) continue;
    const unhealthy = v.replicas - avail(v);
    if (unhealthy <= 0) continue;
    const n = Math.min(maxCleanup - total, unhealthy);
    s.scaleAndRecord(v, v.replicas - n);
    total += n;
  }
  return total;
}

export function scaleDownOldForRollingUpdate(s: Sync, all: View[], old: View[]): number {
  const minAvailable = s.replicas - maxUnavailable(s.d);
  const available = sum(all, avail);
  if (available <= minAvailable) return 0;
  const target = available - minAvailable;
  let total = 0;
  for (const v of [...old].sort(byCreation)) {
    if (total >= target) break;
    if (v.replicas === 0) continue;
    const n = Math.min(v.replicas, target - total);
    s.scaleAndRecord(v, v.replicas - n);
    total += n;
  }
  return total;
}

export function rolloutRolling(s: Sync): void {
  const { newRS, old } = s.getAll(true);
  if (s.aborted || !newRS) return;
  const all = [...old, newRS];
  if (reconcileNewReplicaSet(s, all, newRS)) return syncRolloutStatus(s, all, newRS);
  if (reconcileOldReplicaSets(s, all, active(old), newRS)) return syncRolloutStatus(s, all, newRS);
  if (complete(s, s.d.status ?? {})) cleanup(s, old);
  syncRolloutStatus(s, all, newRS);
}
