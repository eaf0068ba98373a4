// Garbage-collector decisions (Kubernetes' garbagecollector attemptToDeleteItem / orphanDependents /
// processDeletingDependentsItem) over a snapshot of every object's ownership facts. Pure and
// level-triggered: the caller applies the decisions and runs it again as objects change.

import type { ObjectMeta, OwnerReference } from '../../api/types.js';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

/** The ownership facts of one object (any kind). `namespace` is '' or absent for cluster-scoped ones. */
export interface GCObject {
  uid: string;
  kind?: string;
  name?: string;
  namespace?: string;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  finalizers?: string[];
}

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

export interface GCPlan {
  /** Dependents to delete: no owner of theirs remains (or the remaining ones are deleting in foreground). */
  deleteDependents: { uid: string; propagationPolicy: Propagation }[];
  /** Owner references to strip: owners deleted with orphan, or absent/foreground-deleting ones next to a live owner. */
  orphanDependents: { uid: string; ownerUids: string[] }[];
  /** Finalizers that can now be removed from owners being deleted. */
  removeFinalizers: { uid: string; finalizer: typeof FINALIZER_ORPHAN | typeof FINALIZER_FOREGROUND }[];
}

/** The GC facts of any stored object. */
export function gcObjectOf(obj: { kind?: string; metadata: ObjectMeta }): GCObject {
  const m = obj.metadata;
  return {
    uid: m.uid ?? '',
    kind: obj.kind,
    name: m.name,
    namespace: m.namespace,
    ownerReferences: m.ownerReferences,
    deletionTimestamp: m.deletionTimestamp,
    finalizers: m.finalizers,
  };
}

const has = (o: GCObject, f: string) => (o.finalizers ?? []).includes(f);
const deletingWith = (o: GCObject, f: string) => !!o.deletionTimestamp && has(o, f);

export function planGC(objects: readonly GCObject[]): GCPlan {
  const byUid = new Map<string, GCObject>();
  for (const o of objects) if (o.uid) byUid.set(o.uid, o);
  // dependents of each owner uid
  const dependents = new Map<string, { obj: GCObject; ref: OwnerReference }[]>();
  for (const o of objects) {
    for (const ref of o.ownerReferences ?? []) {
      let list = dependents.get(ref.uid);
      if (!list) dependents.set(ref.uid, (list = []));
      list.push({ obj: o, ref });
    }
  }

  // An owner counts only if it exists under that uid and could own the dependent: cluster-scoped, or
  // in the dependent's namespace (Kubernetes looks owners up in the dependent's namespace).
  const ownerOf = (dep: GCObject, ref: OwnerReference): GCObject | undefined => {
    const o = byUid.get(ref.uid);
    if (!o) return undefined;
    if (o.namespace && o.namespace !== (dep.namespace ?? '')) return undefined;
    return o;
  };

  const plan: GCPlan = { deleteDependents: [], orphanDependents: [], removeFinalizers: [] };
  const strip = new Map<string, Set<string>>();
  const addStrip = (uid: string, ownerUid: string) => {
    let s = strip.get(uid);
    if (!s) strip.set(uid, (s = new Set()));
    s.add(ownerUid);
  };

  // Owners deleted with propagationPolicy=Orphan: their dependents lose the reference, then the
  // finalizer goes once nothing refers to them.
  for (const owner of objects) {
    if (!deletingWith(owner, FINALIZER_ORPHAN)) continue;
    const deps = dependents.get(owner.uid) ?? [];
    for (const { obj } of deps) addStrip(obj.uid, owner.uid);
    if (deps.length === 0) plan.removeFinalizers.push({ uid: owner.uid, finalizer: FINALIZER_ORPHAN });
  }

  // Owners deleted in foreground wait for their blocking dependents to be gone.
  for (const owner of objects) {
    if (!deletingWith(owner, FINALIZER_FOREGROUND)) continue;
    const blocking = (dependents.get(owner.uid) ?? []).filter(({ ref }) => ref.blockOwnerDeletion);
    if (blocking.length === 0) plan.removeFinalizers.push({ uid: owner.uid, finalizer: FINALIZER_FOREGROUND });
  }

  for (const item of objects) {
    const refs = item.ownerReferences ?? [];
    if (refs.length === 0) continue;
    // Being deleted already: nothing to decide (a foreground-deleting item is handled as an owner).
    if (item.deletionTimestamp) continue;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = ownerOf(item, ref);
      if (!owner) dangling.push(ref);
      else if (deletingWith(owner, FINALIZER_FOREGROUND)) waiting.push(ref);
      else solid.push(ref);
    }
    if (solid.length) {
      // A live owner keeps the object; references to gone or foreground-deleting owners are dropped so
      // those owners are not blocked.
      for (const r of [...dangling, ...waiting]) addStrip(item.uid, r.uid);
      continue;
    }
    // No live owner: garbage. Owners deleting with orphan count as live (above) until they are gone.
    let policy: Propagation;
    if (waiting.length && (dependents.get(item.uid)?.length ?? 0) > 0) policy = 'Foreground';
    else if (has(item, FINALIZER_ORPHAN)) policy = 'Orphan';
    else if (has(item, FINALIZER_FOREGROUND)) policy = 'Foreground';
    else policy = 'Background';
    plan.deleteDependents.push({ uid: item.uid, propagationPolicy: policy });
  }

  for (const [uid, owners] of strip) plan.orphanDependents.push({ uid, ownerUids: [...owners] });
  return plan;
}
