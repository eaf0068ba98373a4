// Kubernetes' deployment utilities (pkg/controller/deployment/util): annotation keys, condition
// reasons, fenceposts (maxSurge/maxUnavailable), template equality, revisions and the pod-template
// hash. Shared by the rollout planner and rollout history.

import type { Condition, Deployment, DeploymentStatus, IntOrString, PodTemplateSpec, ReplicaSet } from '../../api/types.js';
import { isoSeconds } from './time.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';

/** Deployment annotations never copied to its ReplicaSets (and kept on the Deployment by a rollback). */
export const ANNOTATIONS_TO_SKIP: ReadonlySet<string> = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

export const REASON = {
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  newReplicaSetCreated: 'NewReplicaSetCreated',
  foundNewReplicaSet: 'FoundNewReplicaSet',
  replicaSetUpdated: 'ReplicaSetUpdated',
  newReplicaSetAvailable: 'NewReplicaSetAvailable',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  deploymentPaused: 'DeploymentPaused',
  deploymentResumed: 'DeploymentResumed',
  replicaSetCreateError: 'ReplicaSetCreateError',
} as const;

/** Kubernetes' maximum for annotation revision-history, in characters. */
export const MAX_REVISION_HISTORY_CHARS = 2000;

// ---------- defaults (as apps/v1 defaulting would have set them) ----------

export function desiredReplicas(d: Deployment): number {
  return d.spec.replicas ?? 1;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

export function revisionHistoryLimit(d: Deployment): number {
  return d.spec.revisionHistoryLimit ?? 10;
}

/** progressDeadlineSeconds, defaulted to 600; undefined when disabled (MaxInt32, Kubernetes' "no deadline"). */
export function progressDeadlineSeconds(d: Deployment): number | undefined {
  const v = d.spec.progressDeadlineSeconds ?? 600;
  return v >= 2147483647 ? undefined : v;
}

export function replicaSetReplicas(rs: ReplicaSet): number {
  return rs.spec.replicas ?? 1;
}

// ---------- fenceposts ----------

/**
 * intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded up or down. Throws on a
 * string that is not a percentage, with Kubernetes' message.
 */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const pct = Number(m[1]);
  return roundUp ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
}

function rollingParams(d: Deployment): { maxSurge: IntOrString; maxUnavailable: IntOrString } {
  const ru = d.spec.strategy?.rollingUpdate;
  return { maxSurge: ru?.maxSurge ?? '25%', maxUnavailable: ru?.maxUnavailable ?? '25%' };
}

/**
 * ResolveFenceposts: surge rounds up, unavailable rounds down; if both end up 0 (by rounding),
 * unavailable becomes 1 so the rollout can move.
 */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const { maxSurge, maxUnavailable } = rollingParams(d);
  const desired = desiredReplicas(d);
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: unavailable };
}

export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d).maxSurge;
}

export function maxUnavailable(d: Deployment): number {
  const desired = desiredReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(resolveFenceposts(d).maxUnavailable, desired);
}

/**
 * The validation error for a RollingUpdate whose maxSurge and maxUnavailable are both zero as written
 * (Kubernetes' message), or undefined.
 */
export function rollingUpdateError(d: Deployment): string | undefined {
  if (!isRollingUpdate(d)) return undefined;
  const { maxSurge: s, maxUnavailable: u } = rollingParams(d);
  const zero = (v: IntOrString) => v === 0 || v === '0%' || v === '0';
  if (zero(s) && zero(u)) return 'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0';
  return undefined;
}

// ---------- templates ----------

// Semantic equality as Kubernetes' apiequality has it for JSON-shaped data: absent, null, "", [] and
// {} all mean "unset".
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(canonical);
    return a.length ? a : undefined;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === null || v === '') return undefined;
  return v;
}

export function canonicalJSON(v: unknown): string {
  return JSON.stringify(canonical(v) ?? null);
}

function withoutHash(t: PodTemplateSpec | undefined): unknown {
  if (!t) return undefined;
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...t, metadata: { ...(t.metadata ?? {}), labels } };
}

/** Templates equal apart from the pod-template-hash label (deploymentutil.EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJSON(withoutHash(a)) === canonicalJSON(withoutHash(b));
}

// ---------- pod-template-hash ----------

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character mapped into an alphabet without vowels or look-alikes. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/**
 * Kubernetes' ComputeHash shape: FNV-32a over the template (here its canonical JSON, where Kubernetes
 * hashes Go's dump of the struct) and, when set, the collision count as 8 little-endian bytes; the
 * decimal value rendered with SafeEncodeString: at most 10 characters of bcdfghjklmnpqrstvwxz2456789.
 */
export function podTemplateHash(template: PodTemplateSpec, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJSON(withoutHash(template))));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

// ---------- revisions ----------

/** The revision annotation as a number; undefined when absent or not an integer. */
export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number | undefined {
  const v = obj.metadata.annotations?.[REVISION_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

// ---------- conditions ----------

export function getCondition(status: DeploymentStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: Date): Condition {
  const t = isoSeconds(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * SetDeploymentCondition: no change when status and reason are the same; the transition time is kept
 * when only the reason changes; the condition moves to the end of the list.
 */
export function setCondition(status: DeploymentStatus, cond: Condition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const c = { ...cond };
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), c];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}
