import test from 'ava';
import type { Job, Pod } from '../../../../src/api/types.js';
import { formatIndexes, parseIndexes, planJob, podForJob, podIndex } from '../../../../src/controllers/logic/job.js';

const NOW = new Date('2026-12-07T10:00:00Z');
const at = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString().replace('.000', '');

function job(spec: Partial<Job['spec']> = {}, status?: Job['status']): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'work', namespace: 'default', uid: 'job-uid', generation: 1 },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } }, ...spec },
    ...(status ? { status } : {}),
  };
}

let n = 0;
function pod(phase: Pod['status'] extends infer S ? (S extends { phase?: infer P } ? P : never) : never, o: { index?: number; finishedAt?: number; ready?: boolean; deleting?: boolean; exitCode?: number; restarts?: number } = {}): Pod {
  const p: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `work-${n++}`, namespace: 'default', uid: `p${n}`, creationTimestamp: at(-100 + n) },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    status: { phase, conditions: o.ready ? [{ type: 'Ready', status: 'True' }] : [] },
  };
  if (o.index !== undefined) p.metadata.annotations = { 'batch.kubernetes.io/job-completion-index': String(o.index) };
  if (o.deleting) p.metadata.deletionTimestamp = at(0);
  if (phase === 'Succeeded' || phase === 'Failed') {
    p.status!.containerStatuses = [{ name: 'c', ready: false, restartCount: 0, image: 'i', imageID: '', lastState: {}, state: { terminated: { exitCode: o.exitCode ?? (phase === 'Failed' ? 1 : 0), finishedAt: at(o.finishedAt ?? -10) } } }];
  } else if (o.restarts) {
    p.status!.containerStatuses = [{ name: 'c', ready: true, restartCount: o.restarts, image: 'i', imageID: '', lastState: {}, state: { running: {} } }];
  }
  return p;
}

const types = (j: { conditions?: { type: string; status: string }[] }) => (j.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);

test('completions 3, parallelism 2: two at a time, then the last one, then Complete', (t) => {
  const j = job({ completions: 3, parallelism: 2 });
  let plan = planJob(j, [], NOW);
  t.is(plan.create.length, 2);
  t.truthy(plan.status.startTime);
  plan = planJob(j, [pod('Running'), pod('Running')], NOW);
  t.is(plan.create.length, 0);
  t.is(plan.status.active, 2);
  plan = planJob(j, [pod('Succeeded'), pod('Running')], NOW);
  t.is(plan.create.length, 1, 'one more: 3 completions - 1 succeeded = 2 wanted, 1 active');
  plan = planJob(j, [pod('Succeeded'), pod('Succeeded'), pod('Running')], NOW);
  t.is(plan.create.length, 0, 'never more than what is left to complete');
  plan = planJob(j, [pod('Succeeded'), pod('Succeeded'), pod('Succeeded')], NOW);
  t.deepEqual(types(plan.status), ['SuccessCriteriaMet', 'Complete']);
  t.is(plan.status.succeeded, 3);
  t.is(plan.status.completionTime, '2026-12-07T10:00:00Z');
  t.true(plan.events.some((e) => e.reason === 'Completed'));
});

test('counts are monotonic: a finished pod deleted by hand keeps its count', (t) => {
  const j = job({ completions: 3 }, { succeeded: 2, failed: 1 });
  const plan = planJob(j, [pod('Running')], NOW);
  t.is(plan.status.succeeded, 2);
  t.is(plan.status.failed, 1);
  t.is(plan.create.length, 0);
});

test('without completions the first success completes the Job once the others are done', (t) => {
  const j = job({ completions: undefined, parallelism: 3 });
  t.is(planJob(j, [], NOW).create.length, 3);
  let plan = planJob(j, [pod('Succeeded'), pod('Running'), pod('Running')], NOW);
  t.deepEqual(types(plan.status), ['SuccessCriteriaMet']);
  t.is(plan.delete.length, 0, 'the others finish on their own');
  t.is(plan.create.length, 0);
  plan = planJob(j, [pod('Succeeded'), pod('Succeeded'), pod('Failed')], NOW);
  t.deepEqual(types(plan.status), ['SuccessCriteriaMet', 'Complete']);
});

test('failures back off exponentially (10 s, 20 s, ...) and stop at backoffLimit with BackoffLimitExceeded', (t) => {
  const j = job({ backoffLimit: 2 });
  let plan = planJob(j, [pod('Failed', { finishedAt: -3 })], NOW);
  t.is(plan.create.length, 0, 'inside the 10 s back-off');
  t.is(plan.requeueAfterMs, 7000);
  plan = planJob(j, [pod('Failed', { finishedAt: -11 })], NOW);
  t.is(plan.create.length, 1, 'after 10 s');
  plan = planJob(j, [pod('Failed', { finishedAt: -30 }), pod('Failed', { finishedAt: -15 })], NOW);
  t.is(plan.create.length, 0, 'the second failure waits 20 s');
  t.is(plan.requeueAfterMs, 5000);
  t.is(plan.status.failed, 2);
  // A third failure exceeds backoffLimit 2: FailureTarget first, Failed once nothing runs.
  const failing = [pod('Failed', { finishedAt: -60 }), pod('Failed', { finishedAt: -40 }), pod('Failed', { finishedAt: -1 })];
  plan = planJob(j, failing, NOW);
  t.deepEqual(types(plan.status), ['FailureTarget', 'Failed']);
  t.is(plan.status.conditions!.find((c) => c.type === 'Failed')!.reason, 'BackoffLimitExceeded');
  t.true(plan.events.some((e) => e.type === 'Warning' && e.reason === 'BackoffLimitExceeded'));
  t.is(plan.create.length, 0);
});

test('FailureTarget deletes the pods still running; Failed waits until they are gone', (t) => {
  const j = job({ completions: 3, parallelism: 2, backoffLimit: 0 });
  const running = pod('Running');
  let plan = planJob(j, [pod('Failed'), running], NOW);
  t.deepEqual(types(plan.status), ['FailureTarget']);
  t.deepEqual(plan.delete, [running]);
  const after = job({ completions: 3, parallelism: 2, backoffLimit: 0 }, plan.status);
  plan = planJob(after, [pod('Failed'), pod('Running', { deleting: true })], NOW);
  t.deepEqual(types(plan.status), ['FailureTarget'], 'still terminating');
  t.is(plan.status.terminating, 1);
  plan = planJob(after, [pod('Failed')], NOW);
  t.deepEqual(types(plan.status), ['FailureTarget', 'Failed']);
});

test('restartPolicy OnFailure: container restarts count toward backoffLimit', (t) => {
  const j = job({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'i' }] } } });
  t.deepEqual(types(planJob(j, [pod('Running', { restarts: 1 })], NOW).status), []);
  t.deepEqual(types(planJob(j, [pod('Running', { restarts: 2 })], NOW).status), ['FailureTarget']);
});

test('activeDeadlineSeconds fails the Job with DeadlineExceeded and requeues until then', (t) => {
  const j = job({ activeDeadlineSeconds: 30 }, { startTime: at(-10) });
  let plan = planJob(j, [pod('Running')], NOW);
  t.deepEqual(types(plan.status), []);
  t.is(plan.requeueAfterMs, 20_000);
  plan = planJob(job({ activeDeadlineSeconds: 30 }, { startTime: at(-31) }), [pod('Running')], NOW);
  t.deepEqual(types(plan.status), ['FailureTarget']);
  t.is(plan.status.conditions![0].reason, 'DeadlineExceeded');
  t.is(plan.delete.length, 1);
});

test('Indexed: the lowest pending indexes, completedIndexes compressed, JOB_COMPLETION_INDEX in every container', (t) => {
  const j = job({ completionMode: 'Indexed', completions: 5, parallelism: 2 });
  let plan = planJob(j, [], NOW);
  t.deepEqual(plan.create, [{ index: 0 }, { index: 1 }]);
  plan = planJob(j, [pod('Succeeded', { index: 0 }), pod('Running', { index: 1 }), pod('Failed', { index: 2, finishedAt: -20 })], NOW);
  t.deepEqual(plan.create, [{ index: 2 }]);
  t.is(plan.status.completedIndexes, '0');
  plan = planJob(j, [0, 1, 3, 4].map((i) => pod('Succeeded', { index: i })), NOW);
  t.is(plan.status.completedIndexes, '0-1,3-4');
  t.is(plan.status.succeeded, 4);
  t.deepEqual(plan.create, [{ index: 2 }]);
  const p = podForJob(j, 3);
  t.is(p.metadata.generateName, 'work-3-');
  t.is(p.metadata.annotations!['batch.kubernetes.io/job-completion-index'], '3');
  t.is(podIndex(p), 3);
  t.is(p.spec.hostname, 'work-3');
  t.deepEqual(p.spec.containers[0].env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
  t.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'work', uid: 'job-uid', controller: true, blockOwnerDeletion: true }]);
  t.deepEqual([...parseIndexes('0-1,3-4,7')], [0, 1, 3, 4, 7]);
  t.is(formatIndexes([4, 1, 2, 3, 9]), '1-4,9');
});

test('suspend deletes the active pods and says so; resuming starts the clock again', (t) => {
  const running = pod('Running');
  let plan = planJob(job({ suspend: true }, { startTime: at(-50) }), [running], NOW);
  t.deepEqual(plan.delete, [running]);
  t.deepEqual(types(plan.status), ['Suspended']);
  t.is(plan.status.startTime, undefined);
  t.is(plan.create.length, 0);
  plan = planJob(job({ suspend: false }, plan.status), [], NOW);
  t.is(plan.status.conditions!.find((c) => c.type === 'Suspended')!.status, 'False');
  t.is(plan.status.startTime, '2026-12-07T10:00:00Z');
  t.is(plan.create.length, 1);
});

test('ttlSecondsAfterFinished deletes a finished Job when its time has come', (t) => {
  const done = { conditions: [{ type: 'Complete', status: 'True' as const, lastTransitionTime: at(-5) }], succeeded: 1 };
  let plan = planJob(job({ ttlSecondsAfterFinished: 60 }, done), [pod('Succeeded')], NOW);
  t.falsy(plan.deleteJob);
  t.is(plan.requeueAfterMs, 55_000);
  plan = planJob(job({ ttlSecondsAfterFinished: 0 }, done), [pod('Succeeded')], NOW);
  t.true(plan.deleteJob);
});

test('podFailurePolicy: Ignore drops a failure, FailJob fails at once naming the exit code', (t) => {
  const rules = [
    { action: 'Ignore' as const, onExitCodes: { operator: 'In' as const, values: [42] } },
    { action: 'FailJob' as const, onExitCodes: { containerName: 'c', operator: 'In' as const, values: [7] } },
  ];
  let plan = planJob(job({ podFailurePolicy: { rules }, backoffLimit: 0 }), [pod('Failed', { exitCode: 42, finishedAt: -30 })], NOW);
  t.is(plan.status.failed, undefined, 'ignored');
  t.deepEqual(types(plan.status), []);
  plan = planJob(job({ podFailurePolicy: { rules }, backoffLimit: 5 }), [pod('Failed', { exitCode: 7 })], NOW);
  const c = plan.status.conditions!.find((x) => x.type === 'Failed')!;
  t.is(c.reason, 'PodFailurePolicy');
  t.regex(c.message!, /Container c for pod default\/work-\d+ failed with exit code 7 matching FailJob rule at index 1/);
});

test('a finished Job does nothing more', (t) => {
  const done = job({}, { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: at(-5) }], succeeded: 1 });
  const plan = planJob(done, [pod('Succeeded')], NOW);
  t.is(plan.create.length, 0);
  t.is(plan.delete.length, 0);
  t.false(plan.statusChanged);
});
