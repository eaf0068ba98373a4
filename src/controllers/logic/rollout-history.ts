// What `kubectl rollout history` and `kubectl rollout undo` read from a Deployment's ReplicaSets: each
// ReplicaSet is one revision (its revision annotation), with the change-cause it was created under.

import type { Deployment, PodTemplateSpec, ReplicaSet } from '../../api/types.js';
import { ANNOTATIONS_TO_SKIP, CHANGE_CAUSE_ANNOTATION, POD_TEMPLATE_HASH_LABEL, equalIgnoreHash, revisionOf } from './deployment-util.js';
import { controllerRef } from './pod-status.js';

export interface RevisionInfo {
  revision: number;
  replicaSet: string;
  /** kubernetes.io/change-cause of the ReplicaSet (or its template), if any. */
  changeCause?: string;
  template: PodTemplateSpec;
}

function owned(deploy: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet[] {
  const uid = deploy.metadata.uid;
  return replicaSets.filter((rs) => !uid || controllerRef(rs)?.uid === uid);
}

/** Revisions in ascending order; ReplicaSets without a numeric revision are skipped, as kubectl does. */
export function history(deploy: Deployment, replicaSets: readonly ReplicaSet[]): RevisionInfo[] {
  const byRevision = new Map<number, RevisionInfo>();
  for (const rs of owned(deploy, replicaSets)) {
    const revision = revisionOf(rs);
    if (revision === undefined) continue;
    const template = structuredClone(rs.spec.template ?? { spec: { containers: [] } });
    const changeCause = rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] ?? template.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION];
    const info: RevisionInfo = { revision, replicaSet: rs.metadata.name ?? '', template };
    if (changeCause) info.changeCause = changeCause;
    byRevision.set(revision, info);
  }
  return [...byRevision.values()].sort((a, b) => a.revision - b.revision);
}

export type RollbackTarget =
  | { kind: 'rollback'; revision: number; replicaSet: string; template: PodTemplateSpec; annotations: Record<string, string> }
  | { kind: 'skip'; revision: number; message: string }
  | { kind: 'error'; message: string };

/**
 * What `rollout undo [--to-revision=N]` writes back: the ReplicaSet's template without
 * pod-template-hash, and the Deployment's annotations (its own skip-listed ones kept, the rest taken
 * from the ReplicaSet, so change-cause follows). Revision 0 or undefined means the previous revision.
 * The Deployment controller then finds that old ReplicaSet as the new one and gives it a new revision.
 */
export function rollbackTarget(deploy: Deployment, replicaSets: readonly ReplicaSet[], toRevision?: number): RollbackTarget {
  const all = owned(deploy, replicaSets);
  let target: ReplicaSet | undefined;
  if (toRevision) {
    target = all.find((rs) => revisionOf(rs) === toRevision);
    if (!target) return { kind: 'error', message: `unable to find specified revision ${toRevision} in history` };
  } else {
    let latest = -1;
    let previous = -1;
    let latestRS: ReplicaSet | undefined;
    for (const rs of all) {
      const v = revisionOf(rs);
      if (v === undefined) continue;
      if (v > latest) {
        previous = latest;
        target = latestRS;
        latest = v;
        latestRS = rs;
      } else if (v > previous) {
        previous = v;
        target = rs;
      }
    }
    if (!target) return { kind: 'error', message: `no rollout history found for deployment "${deploy.metadata.name}"` };
  }
  const revision = revisionOf(target) ?? 0;
  if (equalIgnoreHash(target.spec.template, deploy.spec.template)) {
    return { kind: 'skip', revision, message: `skipped rollback (current template already matches revision ${revision})` };
  }
  const template = structuredClone(target.spec.template ?? { spec: { containers: [] } });
  if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(deploy.metadata.annotations ?? {})) if (ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(target.metadata.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  return { kind: 'rollback', revision, replicaSet: target.metadata.name ?? '', template, annotations };
}
