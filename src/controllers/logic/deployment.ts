// The Deployment controller's decision, Kubernetes' syncDeployment (pkg/controller/deployment) as a
// pure function: given the Deployment, the ReplicaSets it owns and their pods, it returns what one
// sync would do: create the new ReplicaSet, scale ReplicaSets, delete old ones beyond
// revisionHistoryLimit, and the status to write. Level-triggered: the caller applies the plan and
// calls again when anything changes; each call only takes steps that are safe from the state it sees.
//
// One deliberate difference: Kubernetes reads availability from ReplicaSet status; here it comes from
// the pods, and a ReplicaSet's available pods count at most up to its spec.replicas (the surplus is
// about to be deleted), so a stale view can only slow a rollout down, never over-scale-down.

import type { Condition, Deployment, DeploymentStatus, Pod, ReplicaSet } from '../../api/types.js';
import { ownerRefFor } from './adopt.js';
import {
  ANNOTATIONS_TO_SKIP,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  MAX_REVISION_HISTORY_CHARS,
  POD_TEMPLATE_HASH_LABEL,
  REASON,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  canonicalJSON,
  desiredReplicas,
  equalIgnoreHash,
  getCondition,
  isRollingUpdate,
  maxSurge,
  maxUnavailable,
  newCondition,
  podTemplateHash,
  progressDeadlineSeconds,
  removeCondition,
  replicaSetReplicas,
  revisionHistoryLimit,
  revisionOf,
  scaledValue,
  setCondition,
} from './deployment-util.js';
import { controllerRef, isPodActive, isPodAvailable, isPodReady, isPodTerminal, podAvailableAt } from './pod-status.js';
import { statusEqual } from './status-equal.js';
import { parseTime } from './time.js';

export { podTemplateHash } from './deployment-util.js';

/** One update to an existing ReplicaSet: set spec.replicas, and annotations/minReadySeconds when given. */
export interface ReplicaSetUpdate {
  /** ReplicaSet name (in the Deployment's namespace). */
  rs: string;
  replicas: number;
  /** The complete annotations the ReplicaSet should carry (a superset of what it has). */
  annotations?: Record<string, string>;
  minReadySeconds?: number;
}

export interface PlanEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface RolloutPlan {
  /** Updates to existing ReplicaSets, in the order to apply them (after `create`). */
  scale: ReplicaSetUpdate[];
  /** A ReplicaSet to create (the new revision). */
  create?: ReplicaSet;
  /** Names of old ReplicaSets to delete (beyond revisionHistoryLimit, scaled to 0 and empty). */
  deleteOld: string[];
  status: DeploymentStatus;
  /** Whether `status` differs from the Deployment's current status (skip the write otherwise). */
  statusChanged: boolean;
  /** Deployment annotations to set (the revision), written with the status as Kubernetes does. */
  annotations?: Record<string, string>;
  /** Events to record on the Deployment. */
  events: PlanEvent[];
  /** Look again after this many seconds (a pod turns available, or the progress deadline passes). */
  requeueAfterSeconds?: number;
}

// ---------- the new ReplicaSet ----------

/** Deployment annotations copied to its ReplicaSets; returns whether `into` changed. */
function copyDeploymentAnnotations(d: Deployment, into: Record<string, string>): boolean {
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || into[k] === v) continue;
    into[k] = v;
    changed = true;
  }
  return changed;
}

function setReplicasAnnotations(into: Record<string, string>, desired: number, max: number): boolean {
  let changed = false;
  if (into[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    into[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (into[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    into[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

/**
 * The ReplicaSet for the Deployment's current template: named `<deploy>-<hash>`, template labels and
 * selector extended with pod-template-hash, the Deployment's annotations plus revision,
 * desired-replicas and max-replicas, and the Deployment as controlling owner.
 */
export function newReplicaSetFor(deploy: Deployment, hash: string, opts: { revision?: number; replicas?: number } = {}): ReplicaSet {
  const template = structuredClone(deploy.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
  const selector = structuredClone(deploy.spec.selector);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const annotations: Record<string, string> = {};
  copyDeploymentAnnotations(deploy, annotations);
  annotations[REVISION_ANNOTATION] = String(opts.revision ?? 1);
  const desired = desiredReplicas(deploy);
  setReplicasAnnotations(annotations, desired, desired + maxSurge(deploy));
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deploy.metadata.name ?? ''}-${hash}`,
      namespace: deploy.metadata.namespace,
      labels: { ...template.metadata.labels },
      annotations,
      ownerReferences: [ownerRefFor(deploy)],
    },
    spec: {
      replicas: opts.replicas ?? 0,
      selector,
      template,
    },
  };
  if (deploy.spec.minReadySeconds) rs.spec.minReadySeconds = deploy.spec.minReadySeconds;
  return rs;
}

// ---------- the working model of one sync ----------

interface View {
  rs: ReplicaSet;
  name: string;
  uid: string;
  created: number | undefined;
  /** spec.replicas as this sync has set it */
  replicas: number;
  /** spec.replicas as observed */
  observedReplicas: number;
  annotations: Record<string, string>;
  minReadySeconds: number;
  activePods: number;
  readyPods: number;
  availablePods: number;
  /** pods not terminal, terminating ones included */
  livePods: number;
  isNew: boolean;
}

function byCreation(a: View, b: View): number {
  const ta = a.created ?? 0;
  const tb = b.created ?? 0;
  if (ta !== tb) return ta - tb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Availability the rollout may count on: at most spec.replicas of a ReplicaSet's available pods. */
function avail(v: View): number {
  return Math.min(v.availablePods, v.replicas);
}

function sum(vs: readonly (View | undefined)[], f: (v: View) => number): number {
  let n = 0;
  for (const v of vs) if (v) n += f(v);
  return n;
}

function active(vs: readonly (View | undefined)[]): View[] {
  return vs.filter((v): v is View => !!v && v.replicas > 0);
}

// Go's math.Round: half away from zero.
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

class Sync {
  readonly status: DeploymentStatus;
  readonly events: PlanEvent[] = [];
  readonly deleteOld: string[] = [];
  readonly touched: View[] = [];
  deployAnnotations?: Record<string, string>;
  finalStatus?: DeploymentStatus;
  aborted = false;
  newView?: View;
  readonly views: View[];
  private readonly nowMs: number;

  constructor(
    readonly d: Deployment,
    replicaSets: readonly ReplicaSet[],
    readonly podsByRS: ReadonlyMap<string, readonly Pod[]>,
    readonly now: Date,
  ) {
    this.nowMs = now.getTime();
    this.status = structuredClone(d.status ?? {});
    this.views = replicaSets.map((rs) => this.view(rs, false));
  }

  private view(rs: ReplicaSet, isNew: boolean): View {
    const pods = (rs.metadata.uid && this.podsByRS.get(rs.metadata.uid)) || [];
    const minReady = rs.spec.minReadySeconds ?? 0;
    let activePods = 0;
    let readyPods = 0;
    let availablePods = 0;
    let livePods = 0;
    for (const p of pods) {
      if (!isPodTerminal(p)) livePods++;
      if (!isPodActive(p)) continue;
      activePods++;
      if (isPodReady(p)) {
        readyPods++;
        if (isPodAvailable(p, minReady, this.now)) availablePods++;
      }
    }
    const replicas = replicaSetReplicas(rs);
    return {
      rs,
      name: rs.metadata.name ?? '',
      uid: rs.metadata.uid ?? '',
      created: parseTime(rs.metadata.creationTimestamp),
      replicas,
      observedReplicas: replicas,
      annotations: { ...(rs.metadata.annotations ?? {}) },
      minReadySeconds: minReady,
      activePods,
      readyPods,
      availablePods,
      livePods,
      isNew,
    };
  }

  private touch(v: View): void {
    if (!this.touched.includes(v)) this.touched.push(v);
  }

  get replicas(): number {
    return desiredReplicas(this.d);
  }

  // ----- finding / creating the new ReplicaSet -----

  private findNew(): View | undefined {
    if (this.newView) return this.newView;
    return [...this.views].sort(byCreation).find((v) => equalIgnoreHash(v.rs.spec.template, this.d.spec.template));
  }

  private setDeploymentRevision(revision: string): void {
    const cur = this.deployAnnotations?.[REVISION_ANNOTATION] ?? this.d.metadata.annotations?.[REVISION_ANNOTATION];
    if (cur === revision) return;
    this.deployAnnotations = { ...(this.d.metadata.annotations ?? {}), ...(this.deployAnnotations ?? {}), [REVISION_ANNOTATION]: revision };
  }

  /** SetNewReplicaSetAnnotations for an existing new ReplicaSet; true when annotations changed. */
  private syncNewAnnotations(v: View, newRevision: number): boolean {
    let changed = copyDeploymentAnnotations(this.d, v.annotations);
    const oldRevision = v.annotations[REVISION_ANNOTATION];
    let oldRev = 0;
    if (oldRevision !== undefined && oldRevision !== '') {
      if (!/^\d+$/.test(oldRevision)) return false;
      oldRev = Number(oldRevision);
    }
    if (oldRev < newRevision) {
      v.annotations[REVISION_ANNOTATION] = String(newRevision);
      changed = true;
      // A known ReplicaSet getting a newer revision is a rollback to it: keep the revisions it had.
      if (oldRevision !== undefined) {
        const hist = v.annotations[REVISION_HISTORY_ANNOTATION] ?? '';
        if (hist === '') v.annotations[REVISION_HISTORY_ANNOTATION] = oldRevision;
        else {
          let parts = hist.split(',');
          let total = hist.length + oldRevision.length + 1;
          let start = 0;
          while (total > MAX_REVISION_HISTORY_CHARS && start < parts.length) total -= parts[start++].length + 1;
          if (total <= MAX_REVISION_HISTORY_CHARS) {
            parts = [...parts.slice(start), oldRevision];
            v.annotations[REVISION_HISTORY_ANNOTATION] = parts.join(',');
          }
        }
      }
    }
    return changed;
  }

  /** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked) and the old ones. */
  getAll(createIfMissing: boolean): { newRS?: View; old: View[] } {
    const existing = this.findNew();
    const old = this.views.filter((v) => v !== existing);
    let maxOld = 0;
    for (const v of old) maxOld = Math.max(maxOld, revisionOf({ metadata: { annotations: v.annotations } }) ?? 0);
    const newRevision = maxOld + 1;
    const deadline = progressDeadlineSeconds(this.d);

    if (existing) {
      const annotationsChanged = existing.isNew ? false : this.syncNewAnnotations(existing, newRevision);
      const minReady = this.d.spec.minReadySeconds ?? 0;
      if (annotationsChanged || existing.minReadySeconds !== minReady) {
        existing.minReadySeconds = minReady;
        this.touch(existing);
      }
      const rev = existing.annotations[REVISION_ANNOTATION];
      if (rev !== undefined) this.setDeploymentRevision(rev);
      if (deadline !== undefined && !getCondition(this.status, 'Progressing')) {
        setCondition(this.status, newCondition('Progressing', 'True', REASON.foundNewReplicaSet, `Found new replica set "${existing.name}"`, this.now));
      }
      return { newRS: existing, old };
    }
    if (!createIfMissing) return { old };

    const hash = podTemplateHash(this.d.spec.template, this.status.collisionCount);
    const rs = newReplicaSetFor(this.d, hash, { revision: newRevision, replicas: 0 });
    if (this.views.some((v) => v.name === rs.metadata.name)) {
      // A different template already owns this name: Kubernetes bumps collisionCount and retries.
      this.status.collisionCount = (this.status.collisionCount ?? 0) + 1;
      this.aborted = true;
      return { old };
    }
    const v = this.view(rs, true);
    v.minReadySeconds = this.d.spec.minReadySeconds ?? 0;
    v.replicas = this.newRSNewReplicas([...old, v], v);
    this.newView = v;
    this.views.push(v);
    this.touch(v);
    if (v.replicas > 0) this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${v.name} to ${v.replicas}`);
    this.setDeploymentRevision(String(newRevision));
    if (deadline !== undefined) {
      setCondition(this.status, newCondition('Progressing', 'True', REASON.newReplicaSetCreated, `Created new replica set "${v.name}"`, this.now));
    }
    return { newRS: v, old };
  }

  private event(type: PlanEvent['type'], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  // ----- scaling -----

  /** NewRSNewReplicas: how far the new ReplicaSet may grow now. */
  newRSNewReplicas(all: readonly View[], newRS: View): number {
    if (!isRollingUpdate(this.d)) return this.replicas;
    const surge = scaledValue(this.d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', this.replicas, true);
    const current = sum(all, (v) => v.replicas);
    const maxTotal = this.replicas + surge;
    if (current >= maxTotal) return newRS.replicas;
    return newRS.replicas + Math.min(maxTotal - current, this.replicas - newRS.replicas);
  }

  private scaleReplicaSet(v: View, newScale: number, op: string): boolean {
    const desired = this.replicas;
    const max = desired + maxSurge(this.d);
    const sizeChanged = v.replicas !== newScale;
    const annotationsNeedUpdate = v.annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || v.annotations[MAX_REPLICAS_ANNOTATION] !== String(max);
    if (!sizeChanged && !annotationsNeedUpdate) return false;
    const from = v.replicas;
    v.replicas = newScale;
    setReplicasAnnotations(v.annotations, desired, max);
    this.touch(v);
    if (sizeChanged) this.event('Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${v.name} to ${newScale} from ${from}`);
    return sizeChanged;
  }

  scaleAndRecord(v: View, newScale: number): boolean {
    if (v.replicas === newScale) return false;
    return this.scaleReplicaSet(v, newScale, v.replicas < newScale ? 'up' : 'down');
  }

  /** isScalingEvent: an active ReplicaSet was sized for a different replica count. */
  isScalingEvent(): boolean {
    const { newRS, old } = this.getAll(false);
    for (const v of active([...old, newRS])) {
      const s = v.annotations[DESIRED_REPLICAS_ANNOTATION];
      if (s === undefined || !/^-?\d+$/.test(s)) continue;
      if (Number(s) !== this.replicas) return true;
    }
    return false;
  }

  private isSaturated(v: View | undefined): boolean {
    if (!v) return false;
    const s = v.annotations[DESIRED_REPLICAS_ANNOTATION];
    if (s === undefined || !/^-?\d+$/.test(s)) return false;
    return v.replicas === this.replicas && Number(s) === this.replicas && avail(v) === this.replicas;
  }

  private replicaSetFraction(v: View): number {
    if (this.replicas === 0) return -v.replicas;
    const deploymentMax = this.replicas + maxSurge(this.d);
    const s = v.annotations[MAX_REPLICAS_ANNOTATION];
    let before = s !== undefined && /^\d+$/.test(s) ? Number(s) : 0;
    if (!before) {
      before = this.d.status?.replicas ?? 0;
      if (!before) return 0;
    }
    return roundHalfAway((v.replicas * deploymentMax) / before) - v.replicas;
  }

  private proportion(v: View, toAdd: number, added: number): number {
    if (v.replicas === 0 || toAdd === 0 || toAdd === added) return 0;
    const fraction = this.replicaSetFraction(v);
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  /** scale(): a replica count change, spread over the ReplicaSets. */
  scale(newRS: View | undefined, old: View[]): void {
    const activeOrLatest = this.findActiveOrLatest(newRS, old);
    if (activeOrLatest) {
      if (activeOrLatest.replicas !== this.replicas) this.scaleAndRecord(activeOrLatest, this.replicas);
      return;
    }
    if (this.isSaturated(newRS)) {
      for (const v of active(old)) this.scaleAndRecord(v, 0);
      return;
    }
    if (!isRollingUpdate(this.d)) return;
    const all = active([...old, newRS]);
    const allReplicas = sum(all, (v) => v.replicas);
    const allowed = this.replicas > 0 ? this.replicas + maxSurge(this.d) : 0;
    const toAdd = allowed - allReplicas;
    let op = '';
    if (toAdd > 0) {
      // larger first; among equals, newer first
      all.sort((a, b) => (a.replicas !== b.replicas ? b.replicas - a.replicas : byCreation(b, a)));
      op = 'up';
    } else if (toAdd < 0) {
      // larger first; among equals, older first
      all.sort((a, b) => (a.replicas !== b.replicas ? b.replicas - a.replicas : byCreation(a, b)));
      op = 'down';
    }
    let added = 0;
    const sizes = new Map<View, number>();
    for (const v of all) {
      if (toAdd !== 0) {
        const p = this.proportion(v, toAdd, added);
        sizes.set(v, v.replicas + p);
        added += p;
      } else sizes.set(v, v.replicas);
    }
    all.forEach((v, i) => {
      let size = sizes.get(v) ?? v.replicas;
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + (toAdd - added));
      this.scaleReplicaSet(v, size, op);
    });
  }

  private findActiveOrLatest(newRS: View | undefined, old: View[]): View | undefined {
    if (!newRS && old.length === 0) return undefined;
    const oldNewestFirst = [...old].sort((a, b) => byCreation(b, a));
    const all = active([...oldNewestFirst, newRS]);
    if (all.length === 0) return newRS ?? oldNewestFirst[0];
    if (all.length === 1) return all[0];
    return undefined;
  }

  // ----- RollingUpdate -----

  reconcileNewReplicaSet(all: View[], newRS: View): boolean {
    if (newRS.replicas === this.replicas) return false;
    if (newRS.replicas > this.replicas) return this.scaleAndRecord(newRS, this.replicas);
    return this.scaleAndRecord(newRS, this.newRSNewReplicas(all, newRS));
  }

  reconcileOldReplicaSets(all: View[], oldActive: View[], newRS: View): boolean {
    if (sum(oldActive, (v) => v.replicas) === 0) return false;
    const allPods = sum(all, (v) => v.replicas);
    const minAvailable = this.replicas - maxUnavailable(this.d);
    const newUnavailable = newRS.replicas - avail(newRS);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old pods go first: removing them costs no availability, and they could block the
    // rollout forever (kubernetes#16737).
    const cleaned = this.cleanupUnhealthyReplicas(oldActive, maxScaledDown);
    const scaledDown = this.scaleDownOldForRollingUpdate([...oldActive, newRS], oldActive);
    return cleaned + scaledDown > 0;
  }

  private cleanupUnhealthyReplicas(old: View[], maxCleanup: number): number {
    let total = 0;
    for (const v of [...old].sort(byCreation)) {
      if (total >= maxCleanup) break;
      if (v.replicas === 0) continue;
      const unhealthy = v.replicas - avail(v);
      if (unhealthy <= 0) continue;
      const n = Math.min(maxCleanup - total, unhealthy);
      this.scaleAndRecord(v, v.replicas - n);
      total += n;
    }
    return total;
  }

  private scaleDownOldForRollingUpdate(all: View[], old: View[]): number {
    const minAvailable = this.replicas - maxUnavailable(this.d);
    const available = sum(all, avail);
    if (available <= minAvailable) return 0;
    const target = available - minAvailable;
    let total = 0;
    for (const v of [...old].sort(byCreation)) {
      if (total >= target) break;
      if (v.replicas === 0) continue;
      const n = Math.min(v.replicas, target - total);
      this.scaleAndRecord(v, v.replicas - n);
      total += n;
    }
    return total;
  }

  // ----- Recreate -----

  oldPodsRunning(newRS: View | undefined, old: View[]): boolean {
    if (sum(old, (v) => v.rs.status?.replicas ?? 0) > 0) return true;
    return old.some((v) => v !== newRS && v.livePods > 0);
  }

  // ----- cleanup and status -----

  cleanup(old: View[]): void {
    const limit = revisionHistoryLimit(this.d);
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
      this.deleteOld.push(v.name);
    }
  }

  /** DeploymentComplete against a status. */
  complete(s: DeploymentStatus): boolean {
    return (
      (s.updatedReplicas ?? 0) === this.replicas &&
      (s.replicas ?? 0) === this.replicas &&
      (s.availableReplicas ?? 0) === this.replicas &&
      (s.observedGeneration ?? 0) >= (this.d.metadata.generation ?? 0)
    );
  }

  calculateStatus(all: (View | undefined)[], newRS: View | undefined): DeploymentStatus {
    const views = all.filter((v): v is View => !!v);
    const available = sum(views, (v) => v.availablePods);
    const total = sum(views, (v) => v.replicas);
    const s: DeploymentStatus = {
      observedGeneration: this.d.metadata.generation,
      replicas: sum(views, (v) => v.activePods),
      updatedReplicas: newRS ? newRS.activePods : 0,
      readyReplicas: sum(views, (v) => v.readyPods),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      collisionCount: this.status.collisionCount,
      conditions: (this.status.conditions ?? []).map((c) => ({ ...c })),
    };
    if (s.observedGeneration === undefined) delete s.observedGeneration;
    if (s.collisionCount === undefined) delete s.collisionCount;
    if (available >= this.replicas - maxUnavailable(this.d)) {
      setCondition(s, newCondition('Available', 'True', REASON.minimumReplicasAvailable, 'Deployment has minimum availability.', this.now));
    } else {
      setCondition(s, newCondition('Available', 'False', REASON.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', this.now));
    }
    return s;
  }

  syncDeploymentStatus(all: (View | undefined)[], newRS: View | undefined): void {
    this.finalStatus = this.calculateStatus(all, newRS);
  }

  syncRolloutStatus(all: (View | undefined)[], newRS: View | undefined): void {
    const s = this.calculateStatus(all, newRS);
    const deadline = progressDeadlineSeconds(this.d);
    if (deadline === undefined) removeCondition(s, 'Progressing');
    const cur = getCondition(this.status, 'Progressing');
    const isComplete = (s.replicas ?? 0) === (s.updatedReplicas ?? 0) && cur?.reason === REASON.newReplicaSetAvailable;
    if (deadline !== undefined && !isComplete) {
      const rsName = newRS?.name;
      if (this.complete(s)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${this.d.metadata.name}" has successfully progressed.`;
        setCondition(s, newCondition('Progressing', 'True', REASON.newReplicaSetAvailable, msg, this.now));
      } else if (this.progressing(s)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${this.d.metadata.name}" is progressing.`;
        const c = newCondition('Progressing', 'True', REASON.replicaSetUpdated, msg, this.now);
        // Progress refreshes lastUpdateTime even when the reason stays the same.
        if (cur) {
          if (cur.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
          removeCondition(s, 'Progressing');
        }
        setCondition(s, c);
      } else if (this.timedOut(s, deadline)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${this.d.metadata.name}" has timed out progressing.`;
        setCondition(s, newCondition('Progressing', 'False', REASON.progressDeadlineExceeded, msg, this.now));
      }
    }
    // ReplicaSet failures (a quota, an admission refusal) surface on the Deployment.
    const failure = this.replicaFailure(all, newRS);
    if (failure) setCondition(s, failure);
    else removeCondition(s, 'ReplicaFailure');
    this.finalStatus = s;
  }

  private replicaFailure(all: (View | undefined)[], newRS: View | undefined): Condition | undefined {
    const pick = (v: View | undefined) => v?.rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    const fromNew = pick(newRS);
    const c = fromNew ?? all.map(pick).find((x) => x);
    if (!c) return undefined;
    const t = c.lastTransitionTime;
    return { type: 'ReplicaFailure', status: c.status, reason: c.reason, message: c.message, lastUpdateTime: t, lastTransitionTime: t };
  }

  private progressing(s: DeploymentStatus): boolean {
    const o = this.d.status ?? {};
    const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
    const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
    return (
      (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) ||
      newOld < oldOld ||
      (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) ||
      (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0)
    );
  }

  private timedOut(s: DeploymentStatus, deadline: number): boolean {
    const c = getCondition(s, 'Progressing');
    if (!c) return false;
    if (c.reason === REASON.newReplicaSetAvailable) return false;
    if (c.reason === REASON.progressDeadlineExceeded) return true;
    const from = parseTime(c.lastUpdateTime);
    if (from === undefined) return false;
    return from + deadline * 1000 < this.nowMs;
  }

  /** When to look again: a pod turning available, or the progress deadline of a stuck rollout. */
  requeueAfter(status: DeploymentStatus): number | undefined {
    let next: number | undefined;
    const consider = (t: number | undefined) => {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    };
    for (const v of this.views) {
      if (v.isNew) continue;
      for (const p of (v.uid && this.podsByRS.get(v.uid)) || []) {
        if (isPodActive(p)) consider(podAvailableAt(p, v.minReadySeconds, this.now)?.getTime());
      }
    }
    const deadline = progressDeadlineSeconds(this.d);
    const cur = getCondition(status, 'Progressing');
    if (deadline !== undefined && !this.d.spec.paused && cur && !this.complete(status) && cur.reason !== REASON.progressDeadlineExceeded) {
      const from = parseTime(cur.lastUpdateTime);
      // One second past the deadline, since the timeout test is strict.
      if (from !== undefined) consider(Math.max(this.nowMs, from + deadline * 1000 + 1000));
    }
    if (next === undefined) return undefined;
    return Math.max(1, Math.ceil((next - this.nowMs) / 1000));
  }
}

// ---------- the flows of syncDeployment ----------

function checkPausedConditions(s: Sync): void {
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

function sync(s: Sync): void {
  const { newRS, old } = s.getAll(false);
  s.scale(newRS, old);
  if (s.d.spec.paused) s.cleanup(old);
  s.syncDeploymentStatus([...old, newRS], newRS);
}

function rolloutRolling(s: Sync): void {
  const { newRS, old } = s.getAll(true);
  if (s.aborted || !newRS) return;
  const all = [...old, newRS];
  if (s.reconcileNewReplicaSet(all, newRS)) return s.syncRolloutStatus(all, newRS);
  if (s.reconcileOldReplicaSets(all, active(old), newRS)) return s.syncRolloutStatus(all, newRS);
  if (s.complete(s.d.status ?? {})) s.cleanup(old);
  s.syncRolloutStatus(all, newRS);
}

function rolloutRecreate(s: Sync): void {
  let { newRS, old } = s.getAll(false);
  let scaledDown = false;
  for (const v of active(old)) if (s.scaleAndRecord(v, 0)) scaledDown = true;
  if (scaledDown || s.oldPodsRunning(newRS, old)) return s.syncRolloutStatus([...old, newRS], newRS);
  if (!newRS) {
    ({ newRS, old } = s.getAll(true));
    if (s.aborted || !newRS) return;
  }
  s.scaleAndRecord(newRS, desiredReplicas(s.d));
  if (s.complete(s.d.status ?? {})) s.cleanup(old);
  s.syncRolloutStatus([...old, newRS], newRS);
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
    s.syncDeploymentStatus([...old, newRS], newRS);
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
  const after = s.requeueAfter(status);
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
