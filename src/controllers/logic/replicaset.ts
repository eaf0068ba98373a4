// The ReplicaSet controller's decision (Kubernetes' syncReplicaSet/manageReplicas/calculateStatus):
// how many pods to create, which to delete, and the status to write. The caller claims pods first
// (adopt.ts), keeps expectations (expectations.ts) so it does not act twice on a stale cache, and
// creates pods from podFromTemplate.

import type { Condition, Pod, ReplicaSet, ReplicaSetStatus } from '../../api/types.js';
import { ownerRefFor } from './adopt.js';
import { isPodActive, isPodAvailable, isPodReady, maxContainerRestarts, podAvailableAt, podReadyTime } from './pod-status.js';
import { statusEqual } from './status-equal.js';
import { isoSeconds, parseTime } from './time.js';

/** Kubernetes caps the pods one sync creates or deletes (burstReplicas). */
export const BURST_REPLICAS = 500;

export interface ReplicaSetPlan {
  /** Pods to create from podFromTemplate. */
  create: number;
  /** Surplus pods to delete, most expendable first. */
  delete: Pod[];
  status: ReplicaSetStatus;
  /** Whether `status` differs from the stored one (skip the write otherwise). */
  statusChanged: boolean;
  /** Look again after this many seconds: a ready pod will then have been ready for minReadySeconds. */
  requeueAfterSeconds?: number;
}

export interface ManageError {
  reason: 'FailedCreate' | 'FailedDelete';
  message: string;
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

// afterOrZero: a missing time sorts first, otherwise the later time first.
function afterOrZero(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) {
    if (a === undefined && b === undefined) return 0;
    return a === undefined ? -1 : 1;
  }
  return b - a;
}

/**
 * Kubernetes' ActivePods order, most expendable first: unscheduled before scheduled, Pending before
 * Unknown before Running, not ready before ready, more recently ready first, more restarts first,
 * newer first.
 */
export function compareActivePods(a: Pod, b: Pod): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '' ? -1 : 1;
  const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
  const pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  if (ra && rb) {
    const c = afterOrZero(podReadyTime(a)?.getTime(), podReadyTime(b)?.getTime());
    if (c !== 0) return c;
  }
  const xa = maxContainerRestarts(a);
  const xb = maxContainerRestarts(b);
  if (xa !== xb) return xb - xa;
  return afterOrZero(parseTime(a.metadata.creationTimestamp), parseTime(b.metadata.creationTimestamp));
}

function labelsContain(labels: Record<string, string> | undefined, want: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(want)) if (labels?.[k] !== v) return false;
  return true;
}

function withReplicaFailure(conditions: Condition[] | undefined, err: ManageError | undefined, now: Date): Condition[] | undefined {
  const existing = conditions?.find((c) => c.type === 'ReplicaFailure');
  if (err && !existing) {
    return [...(conditions ?? []), { type: 'ReplicaFailure', status: 'True', reason: err.reason, message: err.message, lastTransitionTime: isoSeconds(now) }];
  }
  if (!err && existing) {
    const rest = (conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    return rest.length ? rest : undefined;
  }
  return conditions;
}

/**
 * Status from the pods the ReplicaSet owns now (before acting, as Kubernetes does). `manageError` is
 * the failure of the previous create/delete, which sets (or, when absent, clears) ReplicaFailure.
 */
export function replicaSetStatus(rs: ReplicaSet, ownedPods: readonly Pod[], now: Date, manageError?: ManageError): ReplicaSetStatus {
  const active = ownedPods.filter(isPodActive);
  const templateLabels = rs.spec.template?.metadata?.labels ?? {};
  const minReady = rs.spec.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of active) {
    if (labelsContain(pod.metadata.labels, templateLabels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
    }
  }
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
  };
  if (rs.metadata.generation !== undefined) status.observedGeneration = rs.metadata.generation;
  const conditions = withReplicaFailure(rs.status?.conditions, manageError, now);
  if (conditions) status.conditions = conditions;
  return status;
}

/** The next step for a ReplicaSet given the pods it owns (claimed; inactive ones are ignored). */
export function reconcileReplicaSet(rs: ReplicaSet, ownedPods: readonly Pod[], now: Date, opts: { manageError?: ManageError } = {}): ReplicaSetPlan {
  const active = ownedPods.filter(isPodActive);
  const status = replicaSetStatus(rs, active, now, opts.manageError);
  const plan: ReplicaSetPlan = { create: 0, delete: [], status, statusChanged: !statusEqual(rs.status, status) };
  // A ReplicaSet being deleted only reports status; the garbage collector handles its pods.
  if (!rs.metadata.deletionTimestamp) {
    const diff = active.length - (rs.spec.replicas ?? 1);
    if (diff < 0) plan.create = Math.min(-diff, BURST_REPLICAS);
    else if (diff > 0) plan.delete = [...active].sort(compareActivePods).slice(0, Math.min(diff, BURST_REPLICAS));
  }
  const minReady = rs.spec.minReadySeconds ?? 0;
  let next: number | undefined;
  for (const pod of active) {
    const at = podAvailableAt(pod, minReady, now)?.getTime();
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  if (next !== undefined) plan.requeueAfterSeconds = Math.max(1, Math.ceil((next - now.getTime()) / 1000));
  return plan;
}

// Kubernetes' names.SimpleNameGenerator: 5 random characters from an alphabet without vowels or
// look-alikes, appended to a base cut to 58 characters so the name stays within 63.
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_GENERATED_BASE = 58;

export function randomSuffix(rand: () => number = Math.random, length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += SUFFIX_ALPHABET[Math.min(SUFFIX_ALPHABET.length - 1, Math.floor(rand() * SUFFIX_ALPHABET.length))];
  return s;
}

/**
 * A pod for the ReplicaSet: template labels/annotations/finalizers and spec, generateName `<rs>-`,
 * and the ReplicaSet as controlling owner. With a suffix the name is set too (`<rs>-<suffix>`), so
 * the caller need not rely on server-side generateName.
 */
export function podFromTemplate(rs: ReplicaSet, suffix?: string): Pod {
  const tmpl = rs.spec.template;
  const meta = tmpl?.metadata ?? {};
  const generateName = `${rs.metadata.name ?? ''}-`;
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace: rs.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [ownerRefFor(rs)],
    },
    spec: structuredClone(tmpl?.spec ?? { containers: [] }),
  };
  if (suffix) pod.metadata.name = `${generateName.slice(0, MAX_GENERATED_BASE)}${suffix}`;
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}
