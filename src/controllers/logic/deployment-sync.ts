// The working model of one Deployment sync (Kubernetes' pkg/controller/deployment/sync.go): a view of
// each ReplicaSet with its pods counted, finding or creating the new ReplicaSet with its revision, and
// proportional scaling when the replica count changes. The rollout strategies (deployment-rolling.ts,
// deployment-recreate.ts), the status and progress conditions (deployment-progress.ts) and the history
// clean-up (deployment-history.ts) work on this model; deployment.ts puts them together.

import type { Deployment, DeploymentStatus, Pod, ReplicaSet } from '../../api/types.js';
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
  desiredReplicas,
  equalIgnoreHash,
  getCondition,
  isRollingUpdate,
  maxSurge,
  newCondition,
  podTemplateHash,
  progressDeadlineSeconds,
  replicaSetReplicas,
  revisionOf,
  scaledValue,
  setCondition,
} from './deployment-util.js';
import { isPodActive, isPodAvailable, isPodReady, isPodTerminal } from './pod-status.js';
import { parseTime } from './time.js';

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
export function copyDeploymentAnnotations(d: Deployment, into: Record<string, string>): boolean {
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || into[k] === v) continue;
    into[k] = v;
    changed = true;
  }
  return changed;
}

export function setReplicasAnnotations(into: Record<string, string>, desired: number, max: number): boolean {
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

export interface View {
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

export function byCreation(a: View, b: View): number {
  const ta = a.created ?? 0;
  const tb = b.created ?? 0;
  if (ta !== tb) return ta - tb;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Availability the rollout may count on: at most spec.replicas of a ReplicaSet's available pods. */
export function avail(v: View): number {
  return Math.min(v.availablePods, v.replicas);
}

export function sum(vs: readonly (View | undefined)[], f: (v: View) => number): number {
  let n = 0;
  for (const v of vs) if (v) n += f(v);
  return n;
}

export function active(vs: readonly (View | undefined)[]): View[] {
  return vs.filter((v): v is View => !!v && v.replicas > 0);
}

// Go's math.Round: half away from zero.
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

export class Sync {
  readonly status: DeploymentStatus;
  readonly events: PlanEvent[] = [];
  readonly deleteOld: string[] = [];
  readonly touched: View[] = [];
  deployAnnotations?: Record<string, string>;
  finalStatus?: DeploymentStatus;
  aborted = false;
  newView?: View;
  readonly views: View[];
  readonly nowMs: number;

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





  // ----- Recreate -----


  // ----- cleanup and status -----









}

