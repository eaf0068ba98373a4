// Jobs and CronJobs on the real engine, driven with the real kubectl (slot 20): a Job with completions 3
// and parallelism 2 (never more than 2 pods at once), kubectl wait --for=condition=complete and kubectl
// logs job/x, an Indexed Job (JOB_COMPLETION_INDEX), a Job whose pods always fail (stops at backoffLimit
// with BackoffLimitExceeded), a CronJob on a seconds-level test schedule (KUBELITE_CRON_SECONDS=1, tests
// only) that runs and keeps its history limit, kubectl create job --from=cronjob/x (a protobuf body),
// and 422s for an invalid schedule or time zone. Needs root and Docker; instance t20 is removed afterwards.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable } from '../helpers/docker.js';
import { kubectlFor, normalizeTable, tableRows, type Kubectl } from '../helpers/kubectl.js';
import { withKubectl } from '../helpers/kubectl-suite.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 20;

withKubectl('Jobs and CronJobs', suite);

interface PodJ {
  metadata: { name: string; annotations?: Record<string, string> };
  status: { phase?: string; containerStatuses?: { state: { terminated?: { startedAt: string; finishedAt: string; exitCode: number } } }[] };
}

function suite(bin: string): void {
  let server: TestServer | undefined;
  let k: Kubectl;
  let tmp: string;

  test.before(async () => {
    if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
    server = await startTestServer({ slot: SLOT, args: ['--disable', 'proxy,dns,ingress'], env: { KUBELITE_CRON_SECONDS: '1' } });
    k = kubectlFor(server.kubeconfig, bin);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-jobs-'));
  });

  test.after.always(async () => {
    await tearDownServer(server, SLOT);
    k?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const apply = async (name: string, text: string) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, text);
    return k(['apply', '-f', p]);
  };
  const podsOf = async (job: string): Promise<PodJ[]> => {
    const r = await k(['get', 'pods', '-l', `job-name=${job}`, '-o', 'json']);
    return (JSON.parse(r.stdout) as { items: PodJ[] }).items;
  };

  // Serial tests run before the others: this one restarts the server.
  test.serial('after a server restart, a CronJob that missed several runs starts exactly one catch-up run', async (t) => {
    const a = await apply('catchup.yaml', `apiVersion: batch/v1
kind: CronJob
metadata: {name: catchup}
spec:
  schedule: "*/5 * * * * *"
  startingDeadlineSeconds: 30
  successfulJobsHistoryLimit: 10
  jobTemplate:
    metadata: {labels: {app: catchup}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: t, image: kubelite/echo:1, command: ['true']}]
`);
    t.is(a.code, 0, a.stderr);
    const names = async () => new Set((await k(['get', 'jobs', '-l', 'app=catchup', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter(Boolean));
    await waitFor(async () => (await names()).size >= 1, 30_000, 'a first run');
    await server!.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 17_000)); // three schedule times pass while the server is down
    const before = await names();
    await server!.restart();
    const readyAt = Date.now();
    const back = await waitFor(async () => {
      const now = await names();
      return now.size > before.size ? now : undefined;
    }, 30_000, 'the catch-up run');
    // Let the controller settle: nothing more may appear for the missed times.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await names();
    const stamps = [...after].filter((n) => !before.has(n)).map((n) => Number(n.slice('catchup-'.length)) * 1000);
    // The three schedule times missed while the server was surely down collapse into at most one
    // catch-up run (for the most recent missed time, which may also fall during the start-up).
    const info = `${[...after].join(', ')} (down ${new Date(downAt).toISOString()}, back ${new Date(readyAt).toISOString()})`;
    t.true(stamps.filter((s) => s > downAt && s <= downAt + 17_000).length <= 1, `one run for the missed times, not one per missed time: ${info}`);
    t.true(stamps.some((s) => s <= readyAt), `a catch-up run for a time before the server was back: ${info}`);
    t.true(back!.size >= before.size + 1);
    const d = await k(['delete', 'cronjob', 'catchup']);
    t.is(d.code, 0, d.stderr);
  });

  test('a Job with completions 3 and parallelism 2: kubectl wait, get and logs job/x', async (t) => {
    const a = await apply('count.yaml', `apiVersion: batch/v1
kind: Job
metadata: {name: count}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers: [{name: work, image: kubelite/echo:1, command: [sh, -c, 'echo "work done by $(hostname)"; sleep 2']}]
`);
    t.is(a.code, 0, a.stderr);
    const w = await k(['wait', '--for=condition=complete', 'job/count', '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(w.code, 0, w.stderr);
    t.is(w.stdout, 'job.batch/count condition met\n');
    const pods = await podsOf('count');
    t.is(pods.length, 3);
    t.true(pods.every((p) => p.status.phase === 'Succeeded'));
    // Never more than parallelism pods ran at once: at any pod's start, at most one other was running.
    const spans = pods.map((p) => p.status.containerStatuses![0].state.terminated!).map((s) => [Date.parse(s.startedAt), Date.parse(s.finishedAt)] as const);
    for (const [start] of spans) t.true(spans.filter(([s, f]) => s <= start && start < f).length <= 2, JSON.stringify(spans));
    const g = await k(['get', 'job', 'count']);
    t.deepEqual(tableRows(g.stdout)[0], ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    t.deepEqual(tableRows(g.stdout)[1].slice(0, 3), ['count', 'Complete', '3/3']);
    const conds = await k(['get', 'job', 'count', '-o', 'jsonpath={.status.conditions[*].type}']);
    t.is(conds.stdout, 'SuccessCriteriaMet Complete');
    const logs = await k(['logs', 'job/count']);
    t.is(logs.code, 0, logs.stderr);
    t.regex(logs.stdout, /^work done by count-[a-z0-9]{5}\n$/);
  });

  test('an Indexed Job gives each pod its index (JOB_COMPLETION_INDEX, annotation, hostname)', async (t) => {
    const a = await apply('indexed.yaml', `apiVersion: batch/v1
kind: Job
metadata: {name: idx}
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers: [{name: work, image: kubelite/echo:1, command: [sh, -c, 'echo "$JOB_COMPLETION_INDEX $(hostname)"']}]
`);
    t.is(a.code, 0, a.stderr);
    const w = await k(['wait', '--for=condition=complete', 'job/idx', '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(w.code, 0, w.stderr);
    const pods = await podsOf('idx');
    const seen: string[] = [];
    for (const p of pods) {
      const index = p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
      const out = await k(['logs', p.metadata.name]);
      t.is(out.stdout, `${index} idx-${index}\n`);
      seen.push(index!);
    }
    t.deepEqual(seen.sort(), ['0', '1', '2']);
    t.is((await k(['get', 'job', 'idx', '-o', 'jsonpath={.status.completedIndexes}'])).stdout, '0-2');
  });

  test('a Job whose pods always fail stops at backoffLimit with BackoffLimitExceeded', async (t) => {
    const a = await apply('fail.yaml', `apiVersion: batch/v1
kind: Job
metadata: {name: doomed}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: f, image: kubelite/echo:1, command: [sh, -c, 'echo failing; exit 3']}]
`);
    t.is(a.code, 0, a.stderr);
    const w = await k(['wait', '--for=condition=failed', 'job/doomed', '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(w.code, 0, w.stderr);
    const job = JSON.parse((await k(['get', 'job', 'doomed', '-o', 'json'])).stdout) as { status: { failed: number; conditions: { type: string; reason: string }[] } };
    t.is(job.status.failed, 2, 'backoffLimit 1: the first failure is retried once');
    t.deepEqual(job.status.conditions.map((c) => `${c.type}/${c.reason}`), ['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded']);
    const pods = await podsOf('doomed');
    t.is(pods.length, 2);
    t.true(pods.every((p) => p.status.containerStatuses?.[0].state.terminated?.exitCode === 3));
    const g = await k(['get', 'job', 'doomed']);
    t.deepEqual(tableRows(g.stdout)[1].slice(0, 3), ['doomed', 'Failed', '0/1']);
  });

  test('a CronJob runs on its schedule and keeps its history limit; create job --from=cronjob works', async (t) => {
    const a = await apply('tick.yaml', `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/3 * * * * *"
  successfulJobsHistoryLimit: 2
  jobTemplate:
    metadata: {labels: {app: tick}}
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: t, image: kubelite/echo:1, command: [sh, -c, 'echo tick']}]
`);
    t.is(a.code, 0, a.stderr);
    const jobNames = async () => (await k(['get', 'jobs', '-l', 'app=tick', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').filter(Boolean);
    const seen = new Set<string>();
    await waitFor(async () => {
      for (const n of await jobNames()) seen.add(n);
      return seen.size >= 4;
    }, 60_000, 'four scheduled runs');
    // Runs are named after their schedule time (seconds for a seconds-level schedule), 3 s apart.
    const stamps = [...seen].map((n) => Number(n.slice('tick-'.length))).sort();
    for (let i = 1; i < stamps.length; i++) t.is((stamps[i] - stamps[i - 1]) % 3, 0, stamps.join(','));
    await waitFor(async () => {
      const jobs = JSON.parse((await k(['get', 'jobs', '-l', 'app=tick', '-o', 'json'])).stdout) as { items: { status: { conditions?: { type: string }[] } }[] };
      const done = jobs.items.filter((j) => j.status.conditions?.some((c) => c.type === 'Complete'));
      return done.length === 2;
    }, 30_000, 'two finished jobs kept');
    const cj = await k(['get', 'cronjob', 'tick']);
    t.deepEqual(tableRows(cj.stdout)[0], ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    t.deepEqual(tableRows(cj.stdout)[1].slice(0, 4), ['tick', '*/3 * * * * *', '<none>', 'False']);
    const ann = await k(['get', 'job', [...seen].sort().at(-1)!, '-o', 'jsonpath={.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}']);
    t.regex(ann.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const suspend = await k(['patch', 'cronjob', 'tick', '-p', '{"spec":{"suspend":true}}']);
    t.is(suspend.code, 0, suspend.stderr);

    const m = await k(['create', 'job', 'by-hand', '--from=cronjob/tick']);
    t.is(m.code, 0, m.stderr);
    t.is(m.stdout, 'job.batch/by-hand created\n');
    const owner = await k(['get', 'job', 'by-hand', '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.cronjob\\.kubernetes\\.io/instantiate}']);
    t.is(owner.stdout, 'CronJob/tick manual');
    const w = await k(['wait', '--for=condition=complete', 'job/by-hand', '--timeout=60s'], { timeoutMs: 70_000 });
    t.is(w.code, 0, w.stderr);
    const logs = await k(['logs', 'job/by-hand']);
    t.is(logs.stdout, 'tick\n');
  });

  test('kubectl create job and cronjob (typed clients, protobuf bodies); bad schedules and time zones are 422s', async (t) => {
    const j = await k(['create', 'job', 'quick', '--image=kubelite/echo:1', '--', 'sh', '-c', 'echo quick']);
    t.is(j.code, 0, j.stderr);
    const w = await k(['wait', '--for=condition=complete', 'job/quick', '--timeout=60s'], { timeoutMs: 70_000 });
    t.is(w.code, 0, w.stderr);
    const c = await k(['create', 'cronjob', 'nightly', '--image=kubelite/echo:1', '--schedule=@daily', '--', 'echo', 'hi']);
    t.is(c.code, 0, c.stderr);
    const g = await k(['get', 'cj', 'nightly']);
    t.is(normalizeTable(g.stdout).split('\n')[1], 'nightly  @daily  <none>  False  0  <none>  AGE');

    const bad = await k(['create', 'cronjob', 'bad', '--image=kubelite/echo:1', '--schedule=61 * * * *']);
    t.not(bad.code, 0);
    t.regex(bad.stderr, /CronJob\.batch "bad" is invalid: spec\.schedule: Invalid value: "61 \* \* \* \*"/);
    const tz = await apply('tz.yaml', `apiVersion: batch/v1
kind: CronJob
metadata: {name: tz}
spec:
  schedule: "0 9 * * *"
  timeZone: Mars/Olympus_Mons
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: t, image: kubelite/echo:1}]
`);
    t.not(tz.code, 0);
    t.regex(tz.stderr, /spec\.timeZone: Invalid value: "Mars\/Olympus_Mons": unknown time zone Mars\/Olympus_Mons/);
    const ok = await apply('tz-ok.yaml', `apiVersion: batch/v1
kind: CronJob
metadata: {name: tz-ok}
spec:
  schedule: "0 9 * * 1-5"
  timeZone: Europe/Berlin
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: t, image: kubelite/echo:1}]
`);
    t.is(ok.code, 0, ok.stderr);
  });

  test('kubectl explain and describe know the batch kinds', async (t) => {
    const e = await k(['explain', 'cronjob.spec.schedule']);
    t.is(e.code, 0, e.stderr);
    t.regex(e.stdout, /GROUP:\s+batch\nKIND:\s+CronJob\nVERSION:\s+v1/);
    t.regex(e.stdout, /schedule in Cron format/);
    const j = await k(['explain', 'job.spec.completionMode']);
    t.regex(j.stdout, /JOB_COMPLETION_INDEX/);
    const a = await apply('described.yaml', `apiVersion: batch/v1
kind: Job
metadata: {name: described}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: d, image: kubelite/echo:1, command: [sh, -c, 'true']}]
`);
    t.is(a.code, 0, a.stderr);
    const w = await k(['wait', '--for=condition=complete', 'job/described', '--timeout=60s'], { timeoutMs: 70_000 });
    t.is(w.code, 0, w.stderr);
    const d = await k(['describe', 'job', 'described']);
    t.is(d.code, 0, d.stderr);
    t.regex(d.stdout, /Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed/);
    t.regex(d.stdout, /Normal\s+Completed\s+\S+\s+job-controller\s+Job completed/);
  });
}
