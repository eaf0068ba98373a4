// ControllerRef management (Kubernetes' BaseControllerRefManager.ClaimObject): which objects a
// controller adopts (orphans its selector matches), keeps, or releases (its own that no longer match).
// Used for ReplicaSet -> Pods and Deployment -> ReplicaSets alike.

import { labelSelectorMatcher, type LabelMatcher } from '../../api/selectors.js';
import type { KObject, LabelSelector, OwnerReference, Pod, ReplicaSet } from '../../api/types.js';
import { controllerRef, isPodActive } from './pod-status.js';

export interface Claim<T> {
  /** Ours and matching, plus the adopted ones: what the controller reconciles. */
  claimed: T[];
  /** Orphans to adopt: add `ownerRefFor(owner)` to their ownerReferences. */
  adopt: T[];
  /** Ours but no longer matching: remove our reference (`withoutOwnerRef`). */
  release: T[];
}

/** The controller reference a controller puts on what it owns. */
export function ownerRefFor(owner: KObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The object's ownerReferences with the controller's reference added (for an adoption patch). */
export function withOwnerRef(obj: KObject, owner: KObject): OwnerReference[] {
  const ref = ownerRefFor(owner);
  return [...(obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid), ref];
}

/** The object's ownerReferences without the given owner (for a release or orphaning patch). */
export function withoutOwnerRef(obj: KObject, ownerUid: string): OwnerReference[] {
  return (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
}

function isEmptySelector(sel: LabelSelector | undefined): boolean {
  return !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
}

/**
 * Sorts candidates (same namespace as the owner) into claimed/adopt/release. An owner being deleted
 * adopts and releases nothing. An empty selector claims nothing: apps/v1 validation forbids it, and
 * selecting everything in a namespace is never what the user meant.
 */
export function claim<T extends KObject>(owner: KObject, selector: LabelSelector | undefined, candidates: readonly T[], extraMatch?: (obj: T) => boolean): Claim<T> {
  const out: Claim<T> = { claimed: [], adopt: [], release: [] };
  const uid = owner.metadata.uid;
  const ns = owner.metadata.namespace ?? '';
  const ownerDeleting = !!owner.metadata.deletionTimestamp;
  const matcher: LabelMatcher = isEmptySelector(selector) ? () => false : labelSelectorMatcher(selector);
  const match = (o: T) => matcher(o.metadata.labels) && (!extraMatch || extraMatch(o));
  for (const obj of candidates) {
    if (ns && (obj.metadata.namespace ?? '') !== ns) continue;
    const ref = controllerRef(obj);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (match(obj)) out.claimed.push(obj);
      else if (!ownerDeleting) out.release.push(obj);
      continue;
    }
    if (ownerDeleting || !match(obj) || obj.metadata.deletionTimestamp) continue;
    out.adopt.push(obj);
    out.claimed.push(obj);
  }
  return out;
}

/**
 * Pods a ReplicaSet reconciles, adopts, and releases. Like Kubernetes' ReplicaSet controller it looks at
 * active pods only: terminal or terminating pods are neither adopted nor released.
 */
export function claimPods(rs: ReplicaSet, pods: readonly Pod[]): Claim<Pod> {
  return claim(rs, rs.spec.selector, pods.filter(isPodActive));
}

/** ReplicaSets a Deployment reconciles, adopts, and releases. */
export function claimReplicaSets(deploy: KObject & { spec: { selector: LabelSelector } }, replicaSets: readonly ReplicaSet[]): Claim<ReplicaSet> {
  return claim(deploy, deploy.spec.selector, replicaSets);
}
