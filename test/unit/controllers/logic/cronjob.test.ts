import test from 'ava';
import type { CronJob, Job } from '../../../../src/api/types.js';
import { parseCronSchedule } from '../../../../src/api/cron.js';
import { jobNameFor, mostRecentScheduleTime, planCronJob } from '../../../../src/controllers/logic/cronjob.js';

const T = (s: string) => new Date(s);
const sched = (s: string, tz?: string) => parseCronSchedule(s, tz).schedule!;

function cj(spec: Partial<CronJob['spec']> = {}, status?: CronJob['status'], created = '2026-12-07T09:00:30Z'): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace: 'default', uid: 'cj-uid', creationTimestamp: created },
    spec: {
      schedule: '*/5 * * * *',
      concurrencyPolicy: 'Allow',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: 'n' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

function job(name: string, o: { done?: 'Complete' | 'Failed'; start?: string; uid?: string } = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', uid: o.uid ?? `uid-${name}`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'cj-uid', controller: true }] },
    spec: { template: { spec: { containers: [] } } },
    status: { startTime: o.start ?? '2026-12-07T09:00:00Z', ...(o.done ? { conditions: [{ type: o.done, status: 'True' as const }], ...(o.done === 'Complete' ? { completionTime: o.start ?? '2026-12-07T09:00:00Z' } : {}) } : {}) },
  };
}

test('mostRecentScheduleTime: none yet, one due, a few missed, many missed', (t) => {
  const s = sched('*/5 * * * *');
  t.deepEqual(mostRecentScheduleTime(cj(), T('2026-12-07T09:04:00Z'), s), { missed: 'none' });
  t.deepEqual(mostRecentScheduleTime(cj(), T('2026-12-07T09:05:00.050Z'), s), { time: T('2026-12-07T09:05:00Z'), missed: 'none' });
  t.deepEqual(mostRecentScheduleTime(cj(), T('2026-12-07T09:17:00Z'), s), { time: T('2026-12-07T09:15:00Z'), missed: 'few' });
  const last = cj({}, { lastScheduleTime: '2026-12-07T09:15:00Z' });
  t.deepEqual(mostRecentScheduleTime(last, T('2026-12-07T09:17:00Z'), s), { missed: 'none' });
  // Down for two days with an every-minute schedule: more than 100 missed, still only the latest counts.
  const r = mostRecentScheduleTime(cj({ schedule: '* * * * *' }), T('2026-12-09T09:00:30Z'), sched('* * * * *'));
  t.deepEqual(r, { time: T('2026-12-09T09:00:00Z'), missed: 'many' });
});

test('startingDeadlineSeconds bounds how far back a missed run counts', (t) => {
  const s = sched('*/5 * * * *');
  // Last run 09:00; server back at 09:17 with a 60 s deadline: 09:15 is 2 min late, too late.
  const c = cj({ startingDeadlineSeconds: 60 }, { lastScheduleTime: '2026-12-07T09:00:00Z' });
  t.deepEqual(mostRecentScheduleTime(c, T('2026-12-07T09:17:00Z'), s), { missed: 'none' });
  const plan = planCronJob(c, [], T('2026-12-07T09:17:00Z'), s);
  t.is(plan.create, undefined);
  t.is(plan.requeueAfterMs, 3 * 60_000 + 100, 'the next run, 09:20');
  // With a 5 min deadline the 09:15 run is started: one catch-up run, not three.
  const c2 = cj({ startingDeadlineSeconds: 300 }, { lastScheduleTime: '2026-12-07T09:00:00Z' });
  const p2 = planCronJob(c2, [], T('2026-12-07T09:17:00Z'), s);
  t.is(p2.create?.job.metadata.name, jobNameFor(c2, T('2026-12-07T09:15:00Z')));
  t.is(p2.status.lastScheduleTime, '2026-12-07T09:15:00Z');
});

test('a due run creates its Job: named by the minute, labels and template, scheduled-timestamp in the time zone, owned', (t) => {
  const c = cj({ timeZone: 'America/New_York' });
  const plan = planCronJob(c, [], T('2026-12-07T09:05:00.100Z'), sched('*/5 * * * *', 'America/New_York'));
  const j = plan.create!.job;
  t.is(j.metadata.name, `nightly-${Math.floor(Date.parse('2026-12-07T09:05:00Z') / 60_000)}`);
  t.deepEqual(j.metadata.labels, { app: 'n' });
  t.is(j.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2026-12-07T04:05:00-05:00');
  t.deepEqual(j.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }]);
  t.is(plan.requeueAfterMs, 5 * 60_000 - 100 + 100);
  t.true(plan.statusChanged);
});

test('concurrencyPolicy: Allow starts beside, Forbid skips, Replace deletes the running one', (t) => {
  const s = sched('*/5 * * * *');
  const active = job('nightly-1', { uid: 'a1' });
  const status = { lastScheduleTime: '2026-12-07T09:00:00Z', active: [{ kind: 'Job', name: 'nightly-1', namespace: 'default', uid: 'a1' }] };
  const now = T('2026-12-07T09:05:01Z');
  const allow = planCronJob(cj({}, status), [active], now, s);
  t.truthy(allow.create);
  const forbid = planCronJob(cj({ concurrencyPolicy: 'Forbid' }, status), [active], now, s);
  t.is(forbid.create, undefined);
  t.true(forbid.events.some((e) => e.reason === 'JobAlreadyActive'));
  t.is(forbid.status.lastScheduleTime, '2026-12-07T09:00:00Z', 'the skipped run may still start later, within the deadline');
  const replace = planCronJob(cj({ concurrencyPolicy: 'Replace' }, status), [active], now, s);
  t.truthy(replace.create);
  t.deepEqual(replace.delete, [{ job: active, reason: 'replace' }]);
  t.is(replace.status.active, undefined);
});

test('the active list follows the Jobs; finished ones set lastSuccessfulTime; history limits delete the oldest', (t) => {
  const s = sched('*/5 * * * *');
  const jobs = [
    job('a', { done: 'Complete', start: '2026-12-07T08:00:00Z' }),
    job('b', { done: 'Complete', start: '2026-12-07T08:05:00Z' }),
    job('c', { done: 'Complete', start: '2026-12-07T08:10:00Z' }),
    job('d', { done: 'Complete', start: '2026-12-07T08:15:00Z' }),
    job('e', { done: 'Failed', start: '2026-12-07T08:20:00Z' }),
    job('f', { done: 'Failed', start: '2026-12-07T08:25:00Z' }),
  ];
  const status = { lastScheduleTime: '2026-12-07T09:00:00Z', active: [{ kind: 'Job', name: 'd', namespace: 'default', uid: 'uid-d' }, { kind: 'Job', name: 'gone', namespace: 'default', uid: 'uid-gone' }] };
  const plan = planCronJob(cj({}, status), jobs, T('2026-12-07T09:01:00Z'), s);
  t.deepEqual(plan.delete.map((d) => d.job.metadata.name).sort(), ['a', 'e']);
  t.is(plan.status.active, undefined);
  t.is(plan.status.lastSuccessfulTime, '2026-12-07T08:15:00Z');
  t.true(plan.events.some((e) => e.reason === 'SawCompletedJob' && e.message === 'Saw completed job: d, condition: Complete'));
  t.true(plan.events.some((e) => e.reason === 'MissingJob'));
});

test('suspended, deleted or unparseable: no new Jobs, history still kept', (t) => {
  const now = T('2026-12-07T09:05:01Z');
  t.is(planCronJob(cj({ suspend: true }), [], now, sched('*/5 * * * *')).create, undefined);
  t.is(planCronJob(cj({ suspend: true }), [], now, sched('*/5 * * * *')).requeueAfterMs, undefined);
  t.is(planCronJob(cj(), [], now, undefined).create, undefined);
  const deleting = cj();
  deleting.metadata.deletionTimestamp = '2026-12-07T09:05:00Z';
  t.is(planCronJob(deleting, [], now, sched('*/5 * * * *')).create, undefined);
});

test('a restart after a long outage starts exactly one catch-up run (no deadline), then waits for the next time', (t) => {
  const s = sched('0 * * * *');
  const c = cj({ schedule: '0 * * * *' }, { lastScheduleTime: '2026-12-07T01:00:00Z' });
  const plan = planCronJob(c, [], T('2026-12-07T09:30:00Z'), s);
  t.is(plan.create?.scheduled.toISOString(), '2026-12-07T09:00:00.000Z');
  t.is(plan.requeueAfterMs, 30 * 60_000 + 100);
  const after = cj({ schedule: '0 * * * *' }, plan.status);
  t.is(planCronJob(after, [], T('2026-12-07T09:30:05Z'), s).create, undefined);
});

test('seconds-level job names for the test schedules do not collide', (t) => {
  t.not(jobNameFor(cj(), T('2026-12-07T09:05:03Z'), true), jobNameFor(cj(), T('2026-12-07T09:05:06Z'), true));
  t.is(jobNameFor(cj(), T('2026-12-07T09:05:03Z')), jobNameFor(cj(), T('2026-12-07T09:05:06Z')));
});
