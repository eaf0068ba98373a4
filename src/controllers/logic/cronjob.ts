// The CronJob controller's decision (Kubernetes' pkg/controller/cronjob, the v2 controller): the active
// list reconciled with the Jobs that exist, finished Jobs beyond the history limits, and whether a Job
// is due now — the most recent missed schedule time since the last run (or the CronJob's creation),
// bounded by startingDeadlineSeconds, so a server that was down starts at most one catch-up run.
// Pure: the caller passes the parsed schedule and the clock, creates the Job, and requeues.

import type { CronJob, CronJobStatus, Job, ObjectReference } from '../../api/types.js';
import type { CronSchedule } from '../../api/cron.js';
import { formatInZone } from '../../api/cron.js';
import { CRONJOB_SCHEDULED_TIMESTAMP } from '../../api/well-known.js';
import { ownerRefFor } from './adopt.js';
import { isJobFinished } from './job.js';
import { statusEqual } from './status-equal.js';
import { isoSeconds, parseTime } from './time.js';

/** More missed schedules than this: Kubernetes warns (TooManyMissedTimes) and still starts only one. */
export const MAX_MISSED = 100;
/** A requeue lands this long after the schedule time, so the time has surely passed. */
export const REQUEUE_SLACK_MS = 100;

export interface MostRecent {
  /** The latest schedule time in (earliest, now], if any. */
  time?: Date;
  /** How many schedule times were missed: 0, a few, or more than MAX_MISSED. */
  missed: 'none' | 'few' | 'many';
}

/**
 * Kubernetes' mostRecentScheduleTime: schedule times after the last run (or creation) up to now;
 * with startingDeadlineSeconds, nothing older than now - deadline counts.
 */
export function mostRecentScheduleTime(cj: CronJob, now: Date, schedule: CronSchedule): MostRecent {
  let earliest = parseTime(cj.status?.lastScheduleTime) ?? parseTime(cj.metadata.creationTimestamp) ?? now.getTime();
  const deadline = cj.spec.startingDeadlineSeconds;
  if (deadline !== undefined) earliest = Math.max(earliest, now.getTime() - deadline * 1000);
  let t = schedule.next(new Date(earliest));
  if (t.getTime() > now.getTime()) return { missed: 'none' };
  let last = t;
  let count = 0;
  while (t.getTime() <= now.getTime()) {
    last = t;
    count++;
    if (count > MAX_MISSED) {
      // Far behind (a long outage of an every-minute schedule): step by the interval, as Kubernetes does.
      const t2 = schedule.next(t);
      const interval = Math.max(1000, Math.round((t2.getTime() - t.getTime()) / 1000) * 1000);
      const n = Math.floor((now.getTime() - t.getTime()) / interval);
      last = new Date(t.getTime() + n * interval);
      while (schedule.next(last).getTime() <= now.getTime()) last = schedule.next(last);
      return { time: last, missed: 'many' };
    }
    t = schedule.next(t);
  }
  return { time: last, missed: count > 1 ? 'few' : 'none' };
}

/** The Job of one schedule time: `<cronjob>-<minutes since the epoch>` (seconds for sub-minute test schedules). */
export function jobNameFor(cj: CronJob, scheduled: Date, seconds = false): string {
  const t = scheduled.getTime();
  return `${cj.metadata.name}-${seconds ? Math.floor(t / 1000) : Math.floor(t / 60_000)}`;
}

export function jobFromCronJob(cj: CronJob, scheduled: Date, name: string): Job {
  const tmpl = cj.spec.jobTemplate;
  const meta = tmpl.metadata ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: cj.metadata.namespace,
      ...(meta.labels ? { labels: { ...meta.labels } } : {}),
      annotations: { ...(meta.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP]: formatInZone(scheduled, cj.spec.timeZone) },
      ownerReferences: [ownerRefFor(cj)],
    },
    spec: structuredClone(tmpl.spec),
  };
}

export function jobRef(job: Job): ObjectReference {
  return { kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion };
}

export interface CronPlan {
  status: CronJobStatus;
  statusChanged: boolean;
  /** A Job to create now, for this schedule time. */
  create?: { scheduled: Date; job: Job };
  /** Jobs to delete: active ones under Replace, finished ones beyond the history limits. */
  delete: { job: Job; reason: 'replace' | 'history' }[];
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
  requeueAfterMs?: number;
}

const succeededJob = (j: Job) => (j.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True');

function startOf(j: Job): number {
  return parseTime(j.status?.startTime) ?? parseTime(j.metadata.creationTimestamp) ?? 0;
}

/** The oldest finished Jobs beyond a limit (by start time), Kubernetes' removeOldestJobs. */
function beyondLimit(jobs: Job[], limit: number | undefined): Job[] {
  if (limit === undefined || jobs.length <= limit) return [];
  return [...jobs].sort((a, b) => startOf(a) - startOf(b)).slice(0, jobs.length - limit);
}

export function planCronJob(cj: CronJob, ownedJobs: readonly Job[], now: Date, schedule: CronSchedule | undefined, opts: { secondsNames?: boolean } = {}): CronPlan {
  const prev = cj.status ?? {};
  const status: CronJobStatus = { ...prev, active: [...(prev.active ?? [])] };
  const plan: CronPlan = { status, statusChanged: false, delete: [], events: [] };
  const byUid = new Map(ownedJobs.map((j) => [j.metadata.uid, j]));

  // The active list against the Jobs that exist.
  status.active = (status.active ?? []).filter((ref) => {
    const j = byUid.get(ref.uid);
    if (!j) {
      plan.events.push({ type: 'Normal', reason: 'MissingJob', message: `Active job went missing: ${ref.name}` });
      return false;
    }
    if (isJobFinished(j)) {
      const word = succeededJob(j) ? 'Complete' : 'Failed';
      plan.events.push({ type: 'Normal', reason: 'SawCompletedJob', message: `Saw completed job: ${j.metadata.name}, condition: ${word}` });
      return false;
    }
    return true;
  });
  for (const j of ownedJobs) {
    if (!succeededJob(j)) continue;
    const done = parseTime(j.status?.completionTime);
    if (done !== undefined && (parseTime(status.lastSuccessfulTime) ?? 0) < done) status.lastSuccessfulTime = isoSeconds(new Date(done));
  }

  // History limits.
  const finished = ownedJobs.filter((j) => isJobFinished(j) && !j.metadata.deletionTimestamp);
  for (const j of beyondLimit(finished.filter(succeededJob), cj.spec.successfulJobsHistoryLimit)) plan.delete.push({ job: j, reason: 'history' });
  for (const j of beyondLimit(finished.filter((j) => !succeededJob(j)), cj.spec.failedJobsHistoryLimit)) plan.delete.push({ job: j, reason: 'history' });

  const finish = () => {
    if (!status.active?.length) delete status.active;
    plan.statusChanged = !statusEqual(prev, status);
    return plan;
  };
  if (cj.metadata.deletionTimestamp || !schedule || cj.spec.suspend) return finish();

  const requeueNext = (after: Date) => {
    plan.requeueAfterMs = Math.max(1, schedule.next(after).getTime() - now.getTime() + REQUEUE_SLACK_MS);
  };
  const recent = mostRecentScheduleTime(cj, now, schedule);
  if (!recent.time) {
    requeueNext(now);
    return finish();
  }
  const scheduled = recent.time;
  if (recent.missed === 'many') {
    plan.events.push({ type: 'Warning', reason: 'TooManyMissedTimes', message: `too many missed start times: ${MAX_MISSED}. Set or decrease .spec.startingDeadlineSeconds or check clock skew` });
  }
  const deadline = cj.spec.startingDeadlineSeconds;
  if (deadline !== undefined && scheduled.getTime() + deadline * 1000 < now.getTime()) {
    plan.events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${scheduled.toUTCString()}` });
    requeueNext(now);
    return finish();
  }
  const name = jobNameFor(cj, scheduled, opts.secondsNames);
  if ((status.active ?? []).some((r) => r.name === name)) {
    requeueNext(now);
    return finish();
  }
  const policy = cj.spec.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && (status.active?.length ?? 0) > 0) {
    plan.events.push({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
    requeueNext(now);
    return finish();
  }
  if (policy === 'Replace') {
    for (const ref of status.active ?? []) {
      const j = byUid.get(ref.uid);
      if (j) plan.delete.push({ job: j, reason: 'replace' });
    }
    status.active = [];
  }
  plan.create = { scheduled, job: jobFromCronJob(cj, scheduled, name) };
  status.lastScheduleTime = isoSeconds(scheduled);
  requeueNext(now);
  return finish();
}
