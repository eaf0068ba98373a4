// The Job controller's decision (Kubernetes' pkg/controller/job syncJob): which pods to create (and
// for which completion index), which to delete, the status to write and when to look again. Pure:
// the loop passes the Job, the pods it owns and the clock.
//
// Counting: succeeded and failed come from the pods that reached phase Succeeded/Failed (a pod whose
// containers exit non-zero under restartPolicy Never fails; under OnFailure its restarts count toward
// backoffLimit), never less than what the status already counted, so a finished pod deleted by hand
// does not undo its count. Kubernetes tracks this with a pod finalizer; kubelite keeps finished pods
// until the Job goes and treats counts as monotonic instead.
//
// Finishing follows 1.32: SuccessCriteriaMet / FailureTarget first (the remaining pods are deleted),
// then Complete / Failed once no pod of the Job still runs.

import type { Condition, Job, JobStatus, Pod, PodFailurePolicyRule } from '../../api/types.js';
import { JOB_COMPLETION_INDEX, JOB_COMPLETION_INDEX_ENV } from '../../api/well-known.js';
import { ownerRefFor } from './adopt.js';
import { isPodReady, isPodTerminal } from './pod-status.js';
import { statusEqual } from './status-equal.js';
import { isoSeconds, parseTime } from './time.js';

/** Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const JOB_BACKOFF_BASE_MS = 10_000;
export const JOB_BACKOFF_MAX_MS = 360_000;

export const JOB_REASON = {
  completionsReached: 'CompletionsReached',
  backoffLimitExceeded: 'BackoffLimitExceeded',
  deadlineExceeded: 'DeadlineExceeded',
  podFailurePolicy: 'PodFailurePolicy',
  suspended: 'JobSuspended',
  resumed: 'JobResumed',
} as const;

export interface JobPlan {
  /** Pods to create: one entry per pod, with its completion index in Indexed mode. */
  create: { index?: number }[];
  /** Active pods to delete (the job finished, was suspended, or runs more than parallelism). */
  delete: Pod[];
  status: JobStatus;
  statusChanged: boolean;
  /** Events to record about the Job. */
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  /** Look again after this many ms (back-off, deadline, TTL). */
  requeueAfterMs?: number;
  /** ttlSecondsAfterFinished has passed: delete the Job. */
  deleteJob?: boolean;
}

export interface JobPlanOptions {
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

const cond = (status: JobStatus | undefined, type: string) => status?.conditions?.find((c) => c.type === type && c.status === 'True');

export function isJobFinished(job: Job): boolean {
  return !!(cond(job.status, 'Complete') || cond(job.status, 'Failed'));
}

/** The time the Job finished (its Complete/Failed condition), if it did. */
export function jobFinishTime(job: Job): number | undefined {
  const c = cond(job.status, 'Complete') ?? cond(job.status, 'Failed');
  return c ? parseTime(c.lastTransitionTime) : undefined;
}

/** The completion index of a pod of an Indexed Job, or undefined. */
export function podIndex(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[JOB_COMPLETION_INDEX] ?? pod.metadata.labels?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** `1,3-5,7`: Kubernetes' compressed index list. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && i - a < 1_000_000; i++) out.add(i);
  }
  return out;
}

function withCondition(conditions: Condition[], type: string, status: 'True' | 'False', reason: string, message: string, now: Date): Condition[] {
  const existing = conditions.find((c) => c.type === type);
  if (existing && existing.status === status && existing.reason === reason) return conditions;
  const next: Condition = { type, status, reason, message, lastProbeTime: isoSeconds(now), lastTransitionTime: isoSeconds(now) };
  return [...conditions.filter((c) => c.type !== type), next];
}

/** The first rule of a podFailurePolicy that matches a failed pod (exit codes or pod conditions). */
export function matchFailurePolicy(rules: readonly PodFailurePolicyRule[], pod: Pod): { rule: PodFailurePolicyRule; index: number; message: string } | undefined {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      for (const cs of pod.status?.containerStatuses ?? []) {
        if (req.containerName && cs.name !== req.containerName) continue;
        const code = cs.state.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        const inSet = req.values.includes(code);
        if ((req.operator === 'In' && inSet) || (req.operator === 'NotIn' && !inSet)) {
          return { rule, index: i, message: `Container ${cs.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${code} matching ${rule.action} rule at index ${i}` };
        }
      }
    }
    for (const pattern of rule.onPodConditions ?? []) {
      const c = pod.status?.conditions?.find((x) => x.type === pattern.type && x.status === (pattern.status ?? 'True'));
      if (c) return { rule, index: i, message: `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${pattern.type} matching ${rule.action} rule at index ${i}` };
    }
  }
  return undefined;
}

/** Most expendable first: not yet running before running, not ready before ready, newer first. */
function expendable(a: Pod, b: Pod): number {
  const ra = a.status?.phase === 'Running' ? 1 : 0;
  const rb = b.status?.phase === 'Running' ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ya = isPodReady(a) ? 1 : 0;
  const yb = isPodReady(b) ? 1 : 0;
  if (ya !== yb) return ya - yb;
  return (parseTime(b.metadata.creationTimestamp) ?? 0) - (parseTime(a.metadata.creationTimestamp) ?? 0);
}

function finishedAt(pod: Pod): number {
  let t = 0;
  for (const cs of pod.status?.containerStatuses ?? []) t = Math.max(t, parseTime(cs.state.terminated?.finishedAt) ?? 0);
  return t || (parseTime(pod.metadata.creationTimestamp) ?? 0);
}

export function planJob(job: Job, ownedPods: readonly Pod[], now: Date, opts: JobPlanOptions = {}): JobPlan {
  const spec = job.spec;
  const prev = job.status ?? {};
  const indexed = spec.completionMode === 'Indexed';
  const plan: JobPlan = { create: [], delete: [], status: {}, statusChanged: false, events: [] };
  const nowMs = now.getTime();
  const requeue = (ms: number) => {
    if (ms >= 0 && (plan.requeueAfterMs === undefined || ms < plan.requeueAfterMs)) plan.requeueAfterMs = Math.max(1, Math.ceil(ms));
  };

  const pods = [...ownedPods];
  const terminating = pods.filter((p) => p.metadata.deletionTimestamp && !isPodTerminal(p));
  const active = pods.filter((p) => !p.metadata.deletionTimestamp && !isPodTerminal(p));
  const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
  let failedPods = pods.filter((p) => p.status?.phase === 'Failed');

  // Pod failure policy: Ignore drops a failure from the count; FailJob fails the Job at once.
  let policyFailure: string | undefined;
  const rules = spec.podFailurePolicy?.rules ?? [];
  if (rules.length) {
    const counted: Pod[] = [];
    for (const p of failedPods) {
      const m = matchFailurePolicy(rules, p);
      if (m?.rule.action === 'Ignore') continue;
      if (m?.rule.action === 'FailJob') policyFailure ??= m.message;
      counted.push(p);
    }
    failedPods = counted;
  }

  // Counts (monotonic: a deleted finished pod keeps its count).
  const completions = spec.completions;
  let succeeded: number;
  let completedIndexes = new Set<number>();
  if (indexed) {
    completedIndexes = parseIndexes(prev.completedIndexes);
    for (const p of succeededPods) {
      const i = podIndex(p);
      if (i !== undefined && i < (completions ?? 0)) completedIndexes.add(i);
    }
    succeeded = completedIndexes.size;
  } else succeeded = Math.max(prev.succeeded ?? 0, succeededPods.length);
  const failed = Math.max(prev.failed ?? 0, failedPods.length);

  const status: JobStatus = { ...prev };
  let conditions = [...(prev.conditions ?? [])];
  const finished = isJobFinished(job);

  // Suspension: stop the pods, say so; on resume the clock (startTime) starts again.
  const suspended = spec.suspend === true && !finished;
  if (suspended) {
    if (!cond(prev, 'Suspended')) {
      conditions = withCondition(conditions, 'Suspended', 'True', JOB_REASON.suspended, 'Job suspended', now);
      plan.events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    }
    plan.delete.push(...active);
    delete status.startTime;
  } else if (cond(prev, 'Suspended')) {
    conditions = withCondition(conditions, 'Suspended', 'False', JOB_REASON.resumed, 'Job resumed', now);
    plan.events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
    status.startTime = isoSeconds(now);
  }
  if (!suspended && !finished && !status.startTime) status.startTime = isoSeconds(now);

  // Has the Job succeeded, or failed?
  let failure: { reason: string; message: string } | undefined;
  let success = false;
  if (!finished && !suspended) {
    const target = cond(prev, 'FailureTarget');
    const criteria = cond(prev, 'SuccessCriteriaMet');
    if (target) failure = { reason: target.reason ?? '', message: target.message ?? '' };
    else if (criteria) success = true;
    else {
      const backoffLimit = spec.backoffLimit ?? 6;
      let restarts = 0;
      if (spec.template?.spec?.restartPolicy === 'OnFailure') {
        for (const p of active) for (const cs of p.status?.containerStatuses ?? []) restarts += cs.restartCount ?? 0;
      }
      const onFailureExceeded = restarts > 0 && (backoffLimit === 0 || restarts >= backoffLimit);
      const start = parseTime(status.startTime);
      const deadline = spec.activeDeadlineSeconds !== undefined && start !== undefined ? start + spec.activeDeadlineSeconds * 1000 : undefined;
      if (policyFailure) failure = { reason: JOB_REASON.podFailurePolicy, message: policyFailure };
      else if (failed > backoffLimit || onFailureExceeded) failure = { reason: JOB_REASON.backoffLimitExceeded, message: 'Job has reached the specified backoff limit' };
      else if (deadline !== undefined && nowMs >= deadline) failure = { reason: JOB_REASON.deadlineExceeded, message: 'Job was active longer than specified deadline' };
      else {
        if (deadline !== undefined) requeue(deadline - nowMs);
        if (completions !== undefined) success = succeeded >= completions;
        // Without completions, the first success finishes the Job once the others are done.
        else success = succeeded > 0;
      }
    }
    if (failure && !cond(prev, 'FailureTarget')) {
      conditions = withCondition(conditions, 'FailureTarget', 'True', failure.reason, failure.message, now);
      plan.events.push({ type: 'Warning', reason: failure.reason, message: failure.message });
    }
    if (success && !cond(prev, 'SuccessCriteriaMet')) {
      conditions = withCondition(conditions, 'SuccessCriteriaMet', 'True', JOB_REASON.completionsReached, 'Reached expected number of succeeded pods', now);
    }
  }

  if (failure || (success && completions !== undefined)) plan.delete.push(...active);
  // The terminal condition waits until no pod of the Job runs any more.
  if ((failure || success) && active.length + terminating.length === 0) {
    if (failure) {
      conditions = withCondition(conditions, 'Failed', 'True', failure.reason, failure.message, now);
    } else {
      conditions = withCondition(conditions, 'Complete', 'True', JOB_REASON.completionsReached, 'Reached expected number of succeeded pods', now);
      status.completionTime = isoSeconds(now);
      plan.events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
    }
  }

  // Pods to create: up to parallelism, for what is still to complete, after the failure back-off.
  if (!finished && !suspended && !failure && !success) {
    const parallelism = spec.parallelism ?? 1;
    let want: number;
    if (completions === undefined) want = succeeded > 0 ? 0 : parallelism;
    else want = Math.min(parallelism, Math.max(0, completions - succeeded));
    // The back-off after consecutive failures (since the last success): 10 s, 20 s, 40 s, ... 6 min.
    const lastSuccess = Math.max(0, ...succeededPods.map(finishedAt));
    const recentFailures = failedPods.filter((p) => finishedAt(p) > lastSuccess);
    let blockedUntil = 0;
    if (recentFailures.length > 0) {
      const base = opts.backoffBaseMs ?? JOB_BACKOFF_BASE_MS;
      const delay = Math.min(base * 2 ** (recentFailures.length - 1), opts.backoffMaxMs ?? JOB_BACKOFF_MAX_MS);
      blockedUntil = Math.max(...recentFailures.map(finishedAt)) + delay;
    }
    if (active.length > want) {
      plan.delete.push(...[...active].sort(expendable).slice(0, active.length - want));
    } else if (active.length < want) {
      if (nowMs < blockedUntil) requeue(blockedUntil - nowMs);
      else if (indexed) {
        const busy = new Set<number>();
        for (const p of [...active, ...terminating]) {
          const i = podIndex(p);
          if (i !== undefined) busy.add(i);
        }
        for (let i = 0; i < (completions ?? 0) && plan.create.length < want - active.length; i++) {
          if (!completedIndexes.has(i) && !busy.has(i)) plan.create.push({ index: i });
        }
      } else {
        for (let i = active.length; i < want; i++) plan.create.push({});
      }
    }
  }

  // The status as of now (before acting, as Kubernetes writes it).
  status.active = active.length;
  status.ready = active.filter(isPodReady).length;
  status.terminating = terminating.length;
  status.succeeded = succeeded;
  status.failed = failed;
  if (indexed) {
    const s = formatIndexes(completedIndexes);
    if (s) status.completedIndexes = s;
    else delete status.completedIndexes;
  }
  if (conditions.length) status.conditions = conditions;
  else delete status.conditions;
  status.uncountedTerminatedPods = {};
  // active/succeeded/failed are omitted at zero (omitempty); ready and terminating are pointers in 1.32 and stay.
  for (const k of ['active', 'succeeded', 'failed'] as const) if (!status[k]) delete status[k];
  plan.status = status;
  plan.statusChanged = !statusEqual(prev, status);

  // ttlSecondsAfterFinished: the Job goes that long after it finished.
  const finishedAtMs = jobFinishTime({ ...job, status });
  if (spec.ttlSecondsAfterFinished !== undefined && finishedAtMs !== undefined) {
    const expires = finishedAtMs + spec.ttlSecondsAfterFinished * 1000;
    if (nowMs >= expires) plan.deleteJob = true;
    else requeue(expires - nowMs);
  }
  return plan;
}

/** A pod for the Job: the template, the Job as controlling owner, and in Indexed mode its index. */
export function podForJob(job: Job, index?: number): Pod {
  const tmpl = job.spec.template;
  const meta = tmpl?.metadata ?? {};
  const name = job.metadata.name ?? '';
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
      namespace: job.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [ownerRefFor(job)],
    },
    spec: structuredClone(tmpl?.spec ?? { containers: [] }),
  };
  const annotations = { ...(meta.annotations ?? {}) };
  if (index !== undefined) {
    annotations[JOB_COMPLETION_INDEX] = String(index);
    pod.metadata.labels![JOB_COMPLETION_INDEX] = String(index);
    // Kubernetes sets the hostname of an Indexed Job's pod to <job>-<index>.
    pod.spec.hostname = `${name}-${index}`.slice(0, 63).replace(/-+$/, '');
    const env = { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } } };
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      if (!(c.env ?? []).some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) c.env = [...(c.env ?? []), env];
    }
  }
  if (Object.keys(annotations).length) pod.metadata.annotations = annotations;
  if (meta.finalizers?.length) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}
