// The Recreate strategy (recreate.go): every old pod gone before the new ReplicaSet grows.

import { active, sum, type Sync, type View } from './deployment-sync.js';
import { desiredReplicas } from './deployment-util.js';
import { cleanup } from './deployment-history.js';
import { complete, syncRolloutStatus } from './deployment-progress.js';

export function oldPodsRunning(s: Sync, newRS: View | undefined, old: View[]): boolean {
  if (sum(old, (v) => v.rs.status?.replicas ?? 0) > 0) return true;
  return old.some((v) => v !== newRS && v.livePods > 0);
}

export function rolloutRecreate(s: Sync): void {
  let { newRS, old } = s.getAll(false);
  let scaledDown = false;
  for (const v of active(old)) if (s.scaleAndRecord(v, 0)) scaledDown = true;
  if (scaledDown || oldPodsRunning(s, newRS, old)) return syncRolloutStatus(s, [...old, newRS], newRS);
  if (!newRS) {
    ({ newRS, old } = s.getAll(true));
    if (s.aborted || !newRS) return;
  }
  s.scaleAndRecord(newRS, desiredReplicas(s.d));
  if (complete(s, s.d.status ?? {})) cleanup(s, old);
  syncRolloutStatus(s, [...old, newRS], newRS);
}
