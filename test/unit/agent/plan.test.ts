// planPodSync: the kubelet's computePodActions, one layer at a time.

import test from 'ava';
import { planPodSync, ERR_IMAGE_PULL_VISIBLE_MS, type PlanInput } from '../../../src/agent/plan.js';
import { DEFAULT_BACKOFF, type BackoffEntry } from '../../../src/agent/backoff.js';
import type { Pod } from '../../../src/api/types.js';
import type { ObservedContainer, Waiting } from '../../../src/agent/types.js';
import { app, container, exited, iso, pod, sandbox, T0, UID } from './fixtures.js';

function plan(p: Pod, containers: ObservedContainer[], o: Partial<PlanInput> = {}) {
  return planPodSync({
    pod: p,
    containers,
    now: T0 + 60_000,
    backoff: DEFAULT_BACKOFF,
    restartBackoff: new Map(),
    createBackoff: new Map(),
    lastErrors: new Map(),
    livenessFailed: new Set(),
    ...o,
  });
}

const kinds = (r: ReturnType<typeof plan>) => r.actions.map((a) => a.kind);

test('a new pod first gets a sandbox (attempt 0), then its containers', (t) => {
  const r = plan(pod(), []);
  t.deepEqual(r.actions, [{ kind: 'createSandbox', attempt: 0, reason: 'new pod' }]);
  const sb = sandbox();
  const r2 = plan(pod(), [sb]);
  t.deepEqual(r2.actions, [{ kind: 'start', container: 'app', init: false, restartCount: 0, reason: 'new container' }]);
  t.is(r2.sandbox, sb);
});

test('every app container of the spec starts in the same layer', (t) => {
  const p = pod({ containers: [container('a'), container('b')] });
  const r = plan(p, [sandbox()]);
  t.deepEqual(
    r.actions.map((a) => (a.kind === 'start' ? a.container : a.kind)),
    ['a', 'b'],
  );
});

test('a running pod needs nothing', (t) => {
  const sb = sandbox();
  const r = plan(pod(), [sb, app('app', sb)]);
  t.deepEqual(r.actions, []);
  t.is(r.requeueAfterMs, undefined);
});

test('a crashed container restarts at once the first time, counting the restart', (t) => {
  const sb = sandbox();
  const r = plan(pod(), [sb, exited('app', sb, 1)]);
  t.is(r.actions.length, 1);
  const a = r.actions[0];
  t.is(a.kind, 'start');
  if (a.kind !== 'start') return;
  t.is(a.restartCount, 1);
  t.deepEqual(a.backoff, { failures: 1, lastFailureAt: T0 + 60_000 });
});

test('the next crash waits in CrashLoopBackOff with the kubelet message, then restarts', (t) => {
  const sb = sandbox();
  const now = T0 + 60_000;
  const dead = exited('app', sb, 1, { restartCount: 1, startedAt: iso(now - 3000), finishedAt: iso(now - 2000) });
  const entry: BackoffEntry = { failures: 1, lastFailureAt: now - 5000 };
  const r = plan(pod(), [sb, dead], { now, restartBackoff: new Map([['app', entry]]) });
  t.deepEqual(r.actions, []);
  t.deepEqual(r.waiting.get('app'), { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=app pod=web_default(${UID})` });
  t.is(r.requeueAfterMs, 8000);
  const later = plan(pod(), [sb, dead], { now: now + 8000, restartBackoff: new Map([['app', entry]]) });
  t.deepEqual(kinds(later), ['start']);
  const a = later.actions[0];
  if (a.kind === 'start') t.is(a.restartCount, 2);
});

test('a container the engine stopped while it was away restarts at once, its restart streak unchanged', (t) => {
  const sb = sandbox();
  const now = T0 + 60_000;
  // dockerd restarted between now-8 s and now-3 s; the container stopped with it (Docker's times are to the second)
  const dead = exited('app', sb, 137, { restartCount: 1, startedAt: iso(now - 40_000), finishedAt: iso(now - 6_000) });
  const entry: BackoffEntry = { failures: 1, lastFailureAt: now - 40_000 };
  const away = { from: now - 8_000, to: now - 3_000 };
  const r = plan(pod(), [sb, dead], { now, restartBackoff: new Map([['app', entry]]), engineAway: away });
  t.deepEqual(kinds(r), ['start']);
  const a = r.actions[0];
  if (a.kind === 'start') {
    t.is(a.restartCount, 2);
    t.deepEqual(a.backoff, entry, 'the streak is what it was');
  }
  // without the window it is the kubelet's back-off
  t.deepEqual(kinds(plan(pod(), [sb, dead], { now, restartBackoff: new Map([['app', entry]]) })), []);
  // a crash after the engine came back is the container's own
  const later = exited('app', sb, 1, { restartCount: 1, startedAt: iso(now - 2000), finishedAt: iso(now - 1000) });
  t.deepEqual(kinds(plan(pod(), [sb, later], { now, restartBackoff: new Map([['app', { failures: 1, lastFailureAt: now - 1500 }]]), engineAway: away })), []);
});

test('restartPolicy OnFailure restarts failures only; Never restarts nothing and frees the sandbox', (t) => {
  const sb = sandbox();
  t.deepEqual(kinds(plan(pod({ restartPolicy: 'OnFailure' }), [sb, exited('app', sb, 1)])), ['start']);
  const ok = plan(pod({ restartPolicy: 'OnFailure' }), [sb, exited('app', sb, 0)]);
  t.deepEqual(ok.actions, [{ kind: 'stopSandbox', id: sb.id, reason: 'no container of the pod will run again' }]);
  const never = plan(pod({ restartPolicy: 'Never' }), [sb, exited('app', sb, 1)]);
  t.deepEqual(kinds(never), ['stopSandbox']);
  // once the sandbox is stopped there is nothing left to do
  t.deepEqual(plan(pod({ restartPolicy: 'Never' }), [{ ...sb, state: 'exited' }, exited('app', sb, 1)]).actions, []);
});

test('a changed container spec (new image) kills and restarts it without back-off', (t) => {
  const sb = sandbox();
  const old = app('app', sb, {}, container('app', { image: 'kubelite/echo:0' }));
  const r = plan(pod(), [sb, old]);
  t.deepEqual(r.actions, [{ kind: 'kill', id: old.id, container: 'app', reason: 'Killing', message: 'Container app definition changed, will be restarted' }]);
  const killed = { ...old, state: 'exited' as const, exitCode: 143, finishedAt: iso(T0 + 59_000) };
  const r2 = plan(pod(), [sb, killed], { restartBackoff: new Map([['app', { failures: 5, lastFailureAt: T0 + 59_000 }]]) });
  t.is(r2.actions.length, 1);
  const a = r2.actions[0];
  t.true(a.kind === 'start' && a.reason === 'definition changed' && a.backoff?.failures === 0);
});

test('a failed liveness probe kills the container', (t) => {
  const sb = sandbox();
  const c = app('app', sb);
  const r = plan(pod(), [sb, c], { livenessFailed: new Set([c.id]) });
  t.deepEqual(r.actions, [{ kind: 'kill', id: c.id, container: 'app', reason: 'Killing', message: 'Container app failed liveness probe, will be restarted' }]);
});

test('duplicates: the newest running container stays, older running and extra dead ones go', (t) => {
  const sb = sandbox();
  const older = app('app', sb, { createdAt: T0 + 1000 });
  const newer = app('app', sb, { createdAt: T0 + 5000 });
  const dead1 = exited('app', sb, 1, { restartCount: 0, createdAt: T0 });
  const dead2 = exited('app', sb, 1, { restartCount: 0, createdAt: T0 - 1000 });
  const r = plan(pod(), [sb, older, newer, dead1, dead2]);
  t.deepEqual(r.actions.map((a) => (a.kind === 'remove' ? a.id : a.kind)).sort(), [older.id, dead2.id].sort());
});

test('a dead container the API status still names as lastState is kept until the status moves on (logs --previous)', (t) => {
  const sb = sandbox();
  const latest = exited('app', sb, 3, { restartCount: 2, createdAt: T0 + 5000 });
  const previous = exited('app', sb, 3, { restartCount: 1, createdAt: T0 + 1000 });
  const oldest = exited('app', sb, 3, { restartCount: 0, createdAt: T0 });
  // The status written before the latest attempt died still points at `previous`.
  const stale = pod({}, { status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 1, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 3, containerID: `docker://${previous.id}` } } }] } } as never);
  const r = plan(stale, [sb, latest, previous, oldest]);
  t.deepEqual(r.actions.filter((a) => a.kind === 'remove').map((a) => (a as { id: string }).id), [oldest.id]);
  // Once the status names `latest`, `previous` goes too.
  const moved = pod({}, { status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 2, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 3, containerID: `docker://${latest.id}` } } }] } } as never);
  t.deepEqual(plan(moved, [sb, latest, previous]).actions.filter((a) => a.kind === 'remove').map((a) => (a as { id: string }).id), [previous.id]);
});

test('two running sandboxes: the newer one is kept', (t) => {
  const a = sandbox({ restartCount: 0 });
  const b = sandbox({ restartCount: 1 });
  const r = plan(pod(), [a, b]);
  t.deepEqual(r.actions, [{ kind: 'remove', id: a.id, container: 'POD', reason: 'a newer sandbox of this pod runs' }]);
});

test('a dead sandbox: running containers are killed, then a new sandbox with the next attempt', (t) => {
  const sb = sandbox({ state: 'exited', restartCount: 2 });
  const c = app('app', sb);
  const r = plan(pod(), [sb, c]);
  t.deepEqual(kinds(r), ['kill']);
  const r2 = plan(pod(), [sb, { ...c, state: 'exited', exitCode: 137 }]);
  t.deepEqual(r2.actions, [{ kind: 'createSandbox', attempt: 3, reason: 'SandboxChanged' }]);
  // with the new sandbox the old attempt goes, and the container restarts into it
  const fresh = sandbox({ restartCount: 3 });
  const r3 = plan(pod(), [sb, fresh, { ...c, state: 'exited', exitCode: 137 }]);
  t.deepEqual(r3.actions, [{ kind: 'remove', id: sb.id, container: 'POD', reason: 'dead sandbox' }]);
});

test('restartPolicy Never does not get a second sandbox', (t) => {
  const sb = sandbox({ state: 'exited' });
  const r = plan(pod({ restartPolicy: 'Never' }), [sb, exited('app', sb, 137)]);
  t.deepEqual(r.actions, []);
});

test('a container still in an old sandbox is killed', (t) => {
  const old = sandbox({ state: 'exited', restartCount: 0 });
  const sb = sandbox({ restartCount: 1 });
  // the dead sandbox is removed first; then the stray container
  const c = app('app', old);
  t.deepEqual(kinds(plan(pod(), [old, sb, c])), ['remove']);
  const r = plan(pod(), [sb, c]);
  t.deepEqual(r.actions, [{ kind: 'kill', id: c.id, container: 'app', reason: 'SandboxChanged', message: 'Container app runs in a previous sandbox, it will be restarted' }]);
});

test('an interrupted start (created, never started) is replaced with the same restart count', (t) => {
  const sb = sandbox();
  const c = app('app', sb, { state: 'created', restartCount: 4, startedAt: undefined });
  const r = plan(pod(), [sb, c]);
  t.deepEqual(r.actions, [
    { kind: 'remove', id: c.id, container: 'app', reason: 'never started' },
    { kind: 'start', container: 'app', init: false, restartCount: 4, reason: 'interrupted start' },
  ]);
});

test('a container this agent prepared while the sandbox started is started as it is; one of another sandbox or spec is replaced', (t) => {
  const sb = sandbox();
  const c = app('app', sb, { state: 'created', startedAt: undefined });
  t.deepEqual(plan(pod(), [sb, c], { prepared: new Set([c.id]) }).actions, [{ kind: 'start', container: 'app', init: false, restartCount: 0, reason: 'prepared', existing: c.id }]);
  const stale = app('app', sb, { state: 'created', startedAt: undefined, specHash: 'other' });
  t.deepEqual(kinds(plan(pod(), [sb, stale], { prepared: new Set([stale.id]) })), ['remove', 'start'], 'the spec changed meanwhile');
  const other = sandbox();
  const elsewhere = app('app', other, { state: 'created', startedAt: undefined });
  t.deepEqual(kinds(plan(pod(), [sb, elsewhere], { prepared: new Set([elsewhere.id]) })), ['remove', 'start'], 'joined to another sandbox');
});

test('a container removed by hand comes back with restartCount from the status', (t) => {
  const sb = sandbox();
  const p = pod({}, { status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 3, image: 'x', imageID: '', containerID: 'docker://gone', state: { running: {} }, lastState: {} }] } });
  const r = plan(p, [sb]);
  t.deepEqual(r.actions, [{ kind: 'start', container: 'app', init: false, restartCount: 4, reason: 'container removed' }]);
});

test('ErrImagePull shows for a moment, then ImagePullBackOff with the registry message, then a retry', (t) => {
  const sb = sandbox();
  const now = T0 + 60_000;
  const createBackoff = new Map([['app', { failures: 1, lastFailureAt: now - 100 }]]);
  const msg = 'Failed to pull image "127.0.0.1:5999/nothing:1": connection refused';
  const lastErrors = new Map<string, Waiting>([['app', { reason: 'ErrImagePull', message: msg }]]);
  const p = pod({ containers: [container('app', { image: '127.0.0.1:5999/nothing:1' })] });
  const r = plan(p, [sb], { now, createBackoff, lastErrors });
  t.deepEqual(r.actions, []);
  t.deepEqual(r.waiting.get('app'), { reason: 'ErrImagePull', message: msg });
  t.is(r.requeueAfterMs, ERR_IMAGE_PULL_VISIBLE_MS - 100);
  const r2 = plan(p, [sb], { now: now + 2000, createBackoff, lastErrors });
  t.deepEqual(r2.waiting.get('app'), { reason: 'ImagePullBackOff', message: `Back-off pulling image "127.0.0.1:5999/nothing:1": ${msg}` });
  t.is(r2.requeueAfterMs, 10_000 - 100 - 2000);
  t.deepEqual(kinds(plan(p, [sb], { now: now + 10_000, createBackoff, lastErrors })), ['start']);
});

test('a config error waits on the create back-off showing its reason', (t) => {
  const sb = sandbox();
  const now = T0 + 60_000;
  const r = plan(pod(), [sb], {
    now,
    createBackoff: new Map([['app', { failures: 2, lastFailureAt: now - 1000 }]]),
    lastErrors: new Map([['app', { reason: 'CreateContainerConfigError', message: 'configmap "x" not found' }]]),
  });
  t.deepEqual(r.actions, []);
  t.deepEqual(r.waiting.get('app'), { reason: 'CreateContainerConfigError', message: 'configmap "x" not found' });
  t.is(r.requeueAfterMs, 19_000);
});

test('a failing sandbox creation backs off and every container shows why', (t) => {
  const now = T0 + 60_000;
  const r = plan(pod({ containers: [container('a'), container('b')] }), [], {
    now,
    restartBackoff: new Map([['POD', { failures: 1, lastFailureAt: now - 1000 }]]),
    lastErrors: new Map([['POD', { reason: 'CreatePodSandboxError', message: 'Failed to create pod sandbox: port is already allocated' }]]),
  });
  t.deepEqual(r.actions, []);
  t.deepEqual(r.waiting.get('b'), { reason: 'CreatePodSandboxError', message: 'Failed to create pod sandbox: port is already allocated' });
  t.is(r.requeueAfterMs, 9000);
});

test('init containers run one at a time before the app containers', (t) => {
  const p = pod({ initContainers: [container('i1'), container('i2')] });
  const sb = sandbox();
  t.deepEqual(plan(p, [sb]).actions, [{ kind: 'start', container: 'i1', init: true, restartCount: 0, reason: 'new container' }]);
  t.deepEqual(plan(p, [sb, app('i1', sb)]).actions, []);
  const i1 = exited('i1', sb, 0);
  t.deepEqual(plan(p, [sb, i1]).actions, [{ kind: 'start', container: 'i2', init: true, restartCount: 0, reason: 'new container' }]);
  const r = plan(p, [sb, i1, exited('i2', sb, 0)]);
  t.deepEqual(r.actions, [{ kind: 'start', container: 'app', init: false, restartCount: 0, reason: 'new container' }]);
});

test('a failed init container restarts (even under Always), but under Never the pod is done', (t) => {
  const sb = sandbox();
  const p = pod({ initContainers: [container('i1')] });
  t.deepEqual(kinds(plan(p, [sb, exited('i1', sb, 1)])), ['start']);
  const never = pod({ restartPolicy: 'Never', initContainers: [container('i1')] });
  t.deepEqual(kinds(plan(never, [sb, exited('i1', sb, 1)])), ['stopSandbox']);
});

test('a terminal pod starts nothing and stops its sandbox', (t) => {
  const sb = sandbox();
  const p = pod({}, { status: { phase: 'Succeeded' } });
  t.deepEqual(kinds(plan(p, [sb, exited('app', sb, 0)])), ['stopSandbox']);
});

test('containers that are not in the spec are removed', (t) => {
  const sb = sandbox();
  const stray = app('old', sb);
  t.deepEqual(plan(pod(), [sb, stray, app('app', sb)]).actions, [{ kind: 'remove', id: stray.id, container: 'old', reason: 'not in the pod spec' }]);
});

test('containers of another pod incarnation (other uid) are not this plan\'s business', (t) => {
  const sb = sandbox();
  const other = app('app', sb, { podUid: 'other' });
  t.deepEqual(plan(pod(), [sb, app('app', sb), other]).actions, []);
});
