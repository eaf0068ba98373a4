// podStatusFrom: the kubelet's phase, conditions and container states from what Docker shows.

import test from 'ava';
import { podStatusFrom, rejectedStatus, stoppedSinceStatus, terminatedState, type StatusInput } from '../../../src/agent/status.js';
import { qosClass } from '../../../src/api/qos.js';
import type { Pod } from '../../../src/api/types.js';
import type { ObservedContainer, ProbeStatus, Waiting } from '../../../src/agent/types.js';
import { app, container, exited, iso, pod, sandbox, T0 } from './fixtures.js';

function status(p: Pod, containers: ObservedContainer[], o: Partial<StatusInput> = {}) {
  const sb = containers.find((c) => c.role === 'infra' && c.state === 'running');
  return podStatusFrom({
    pod: p,
    containers,
    sandbox: sb,
    probes: new Map(),
    waiting: new Map(),
    lastErrors: new Map(),
    now: T0 + 60_000,
    hostIP: '192.0.2.2',
    ...o,
  });
}

const cond = (s: ReturnType<typeof status>, type: string) => s.conditions?.find((c) => c.type === type);

test('a new pod is Pending with ContainerCreating and no IP yet', (t) => {
  const s = status(pod(), []);
  t.is(s.phase, 'Pending');
  t.is(s.podIP, undefined);
  t.is(s.hostIP, '192.0.2.2');
  t.deepEqual(s.containerStatuses?.[0].state, { waiting: { reason: 'ContainerCreating' } });
  t.is(s.containerStatuses?.[0].ready, false);
  t.is(cond(s, 'Ready')?.status, 'False');
  t.is(cond(s, 'Ready')?.reason, 'ContainersNotReady');
  t.is(cond(s, 'Ready')?.message, 'containers with unready status: [app]');
  t.is(cond(s, 'PodScheduled')?.status, 'True');
  t.is(s.qosClass, 'BestEffort');
});

test('running containers without probes: Running, Ready, the sandbox IP', (t) => {
  const sb = sandbox();
  const c = app('app', sb);
  const s = status(pod(), [sb, c]);
  t.is(s.phase, 'Running');
  t.is(s.podIP, '10.244.0.5');
  t.deepEqual(s.podIPs, [{ ip: '10.244.0.5' }]);
  const cs = s.containerStatuses![0];
  t.deepEqual(cs.state, { running: { startedAt: iso(T0 + 1000) } });
  t.true(cs.ready);
  t.true(cs.started);
  t.is(cs.containerID, `docker://${c.id}`);
  t.is(cs.imageID, 'docker://sha256:echo');
  for (const type of ['Initialized', 'Ready', 'ContainersReady']) t.is(cond(s, type)?.status, 'True', type);
});

test('readiness follows the probe; the condition keeps its transition time while unchanged', (t) => {
  const sb = sandbox();
  const spec = container('app', { readinessProbe: { httpGet: { port: 8080, path: '/ready' } } });
  const p = pod({ containers: [spec] });
  const c = app('app', sb, {}, spec);
  const notYet = status(p, [sb, c]);
  t.false(notYet.containerStatuses![0].ready);
  const probes = new Map<string, ProbeStatus>([[c.id, { ready: true }]]);
  const ready = status(p, [sb, c], { probes });
  t.true(ready.containerStatuses![0].ready);
  t.is(cond(ready, 'Ready')?.status, 'True');
  const later = status({ ...p, status: ready }, [sb, c], { probes, now: T0 + 120_000 });
  t.is(cond(later, 'Ready')?.lastTransitionTime, cond(ready, 'Ready')?.lastTransitionTime);
});

test('a terminating pod is not Ready whatever its probes say', (t) => {
  const sb = sandbox();
  const s = status(pod(), [sb, app('app', sb)], { terminating: true });
  t.is(cond(s, 'Ready')?.status, 'False');
  t.is(cond(s, 'Ready')?.reason, 'PodTerminating');
  t.is(cond(s, 'ContainersReady')?.status, 'True');
});

test('CrashLoopBackOff: waiting with the last termination, phase Running under Always', (t) => {
  const sb = sandbox();
  const dead = exited('app', sb, 2, { restartCount: 3 });
  const waiting = new Map<string, Waiting>([['app', { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=web_default(uid)' }]]);
  const s = status(pod(), [sb, dead], { waiting });
  const cs = s.containerStatuses![0];
  t.is(s.phase, 'Running');
  t.is(cs.state.waiting?.reason, 'CrashLoopBackOff');
  t.is(cs.lastState.terminated?.exitCode, 2);
  t.is(cs.lastState.terminated?.reason, 'Error');
  t.is(cs.restartCount, 3);
  t.false(cs.ready);
});

test('Completed / Error / OOMKilled / StartError terminations', (t) => {
  const sb = sandbox();
  t.is(terminatedState(exited('app', sb, 0)).reason, 'Completed');
  t.is(terminatedState(exited('app', sb, 1)).reason, 'Error');
  const oom = terminatedState(exited('app', sb, 137, { oomKilled: true }));
  t.is(oom.reason, 'OOMKilled');
  t.is(oom.exitCode, 137);
  const se = terminatedState(app('app', sb, { state: 'created', exitCode: 127, error: 'exec: "nope": executable file not found in $PATH', startedAt: undefined }));
  t.is(se.reason, 'StartError');
  t.is(se.exitCode, 127);
  t.regex(se.message ?? '', /executable file not found/);
});

test('phases under OnFailure and Never (getPhase)', (t) => {
  const sb = sandbox();
  t.is(status(pod({ restartPolicy: 'Never' }), [sb, exited('app', sb, 0)]).phase, 'Succeeded');
  t.is(status(pod({ restartPolicy: 'Never' }), [sb, exited('app', sb, 3)]).phase, 'Failed');
  t.is(status(pod({ restartPolicy: 'OnFailure' }), [sb, exited('app', sb, 0)]).phase, 'Succeeded');
  t.is(status(pod({ restartPolicy: 'OnFailure' }), [sb, exited('app', sb, 3)]).phase, 'Running');
  const two = pod({ restartPolicy: 'Never', containers: [container('a'), container('b')] });
  t.is(status(two, [sb, exited('a', sb, 0), app('b', sb)]).phase, 'Running');
  const s = status(two, [sb, exited('a', sb, 0), exited('b', sb, 1)]);
  t.is(s.phase, 'Failed');
  t.is(cond(s, 'Ready')?.reason, 'PodCompleted');
});

test('a terminal phase never goes back', (t) => {
  const p = pod({}, { status: { phase: 'Succeeded' } });
  t.is(status(p, []).phase, 'Succeeded');
});

test('waiting reasons from failures: ErrImagePull, CreateContainerConfigError', (t) => {
  const sb = sandbox();
  const lastErrors = new Map<string, Waiting>([['app', { reason: 'CreateContainerConfigError', message: 'configmap "x" not found' }]]);
  const s = status(pod(), [sb], { lastErrors });
  t.is(s.phase, 'Pending');
  t.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'CreateContainerConfigError', message: 'configmap "x" not found' } });
  const w = new Map<string, Waiting>([['app', { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' }]]);
  t.is(status(pod(), [sb], { waiting: w, lastErrors }).containerStatuses![0].state.waiting?.reason, 'ImagePullBackOff');
});

test('lastState shows the previous container while the new one runs; restartCount never drops', (t) => {
  const sb = sandbox();
  const prev = exited('app', sb, 137, { restartCount: 1, createdAt: T0 });
  const cur = app('app', sb, { restartCount: 2, createdAt: T0 + 5000 });
  const s = status(pod(), [sb, prev, cur]);
  const cs = s.containerStatuses![0];
  t.is(cs.restartCount, 2);
  t.is(cs.lastState.terminated?.exitCode, 137);
  t.is(cs.lastState.terminated?.containerID, `docker://${prev.id}`);
  const withHigher = pod({}, { status: { containerStatuses: [{ ...cs, restartCount: 5 }] } });
  t.is(status(withHigher, [sb, cur]).containerStatuses![0].restartCount, 5);
});

test('init containers: Pending with Initialized=False until they succeed', (t) => {
  const sb = sandbox();
  const p = pod({ initContainers: [container('init')] });
  const s = status(p, [sb, app('init', sb)]);
  t.is(s.phase, 'Pending');
  t.is(cond(s, 'Initialized')?.status, 'False');
  t.is(cond(s, 'Initialized')?.message, 'containers with incomplete status: [init]');
  t.is(s.containerStatuses![0].state.waiting?.reason, 'PodInitializing');
  t.is(s.initContainerStatuses?.[0].state.running !== undefined, true);
  const done = status(p, [sb, exited('init', sb, 0), app('app', sb)]);
  t.is(done.phase, 'Running');
  t.is(cond(done, 'Initialized')?.status, 'True');
  const failed = status(pod({ restartPolicy: 'Never', initContainers: [container('init')] }), [sb, exited('init', sb, 1)]);
  t.is(failed.phase, 'Failed');
});

test('the pod keeps its last IP while its sandbox is being replaced, and startTime once set', (t) => {
  const p = pod({}, { status: { podIP: '10.244.0.9', startTime: '2025-01-01T00:00:00Z' } });
  const s = status(p, []);
  t.is(s.podIP, '10.244.0.9');
  t.is(s.startTime, '2025-01-01T00:00:00Z');
});

test('qosClass', (t) => {
  t.is(qosClass(pod()), 'BestEffort');
  t.is(qosClass(pod({ containers: [container('a', { resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } })] })), 'Guaranteed');
  t.is(qosClass(pod({ containers: [container('a', { resources: { requests: { cpu: '100m' } } })] })), 'Burstable');
});

test('a rejected pod is Failed with the admission reason', (t) => {
  const s = rejectedStatus(pod(), 'OutOfcpu', "Pod was rejected: Node didn't have enough resource: cpu", '192.0.2.2', T0);
  t.is(s.phase, 'Failed');
  t.is(s.reason, 'OutOfcpu');
  t.regex(s.message ?? '', /enough resource: cpu/);
});

test('stoppedSinceStatus: containers the status shows running that Docker no longer runs (crashed, killed, removed)', (t) => {
  const sb = sandbox();
  const running = app('app', sb);
  const p = pod();
  p.status = status(p, [sb, running]);
  t.deepEqual(stoppedSinceStatus(p, [sb, running]), [], 'all running: nothing to report first');
  t.deepEqual(stoppedSinceStatus(p, [sb, { ...running, state: 'exited', exitCode: 137 }]), ['app'], 'killed');
  t.deepEqual(stoppedSinceStatus(p, [sb]), ['app'], 'removed by hand');
  t.deepEqual(stoppedSinceStatus(pod(), [sb]), [], 'a new Pod (no status yet) has nothing that stopped');
  // The status written in between: NotReady with the old container terminated, the restart count unchanged.
  const between = status(p, [sb, { ...running, state: 'exited', exitCode: 137, finishedAt: iso(T0 + 5000) }]);
  t.is(cond(between, 'Ready')?.status, 'False');
  t.is(between.containerStatuses?.[0].state?.terminated?.exitCode, 137);
  t.is(between.containerStatuses?.[0].restartCount, 0);
});
