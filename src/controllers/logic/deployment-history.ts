// Revision history (sync.go's cleanupDeployment): old ReplicaSets beyond revisionHistoryLimit that
// have scaled to zero are deleted, oldest revision first.

import { byCreation, type Sync, type View } from './deployment-sync.js';
import { revisionHistoryLimit, revisionOf } from './deployment-util.js';

export function cleanup(s: Sync, old: View[]): void {
  const limit = revisionHistoryLimit(s.d);
  const cleanable = old.filter((v) => !v.rs.metadata.deletionTimestamp && !v.isNew);
  const diff = cleanable.length - limit;
  if (diff <= 0) return;
  cleanable.sort((a, b) => {
    const ra = revisionOf(a.rs) ?? 0;
    const rb = revisionOf(b.rs) ?? 0;
    return ra !== rb ? ra - rb : byCreation(a, b);
  });
  for (let i = 0; i < diff; i++) {
    const v = cleanable[i];
    const generation = v.rs.metadata.generation ?? 0;
    const observed = v.rs.status?.observedGeneration ?? 0;
    if ((v.rs.status?.replicas ?? 0) !== 0 || v.observedReplicas !== 0 || v.livePods > 0 || generation > observed) continue;
    s.deleteOld.push(v.name);
  }
}
