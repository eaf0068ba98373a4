// The agent's other pure pieces: back-off, Docker frames, the exec channel protocol, probe counting,
// admission, the network decision, the Node object, logs/exec request checks, the runtime cache.

import test from 'ava';
import { backoffFromEnv, DEFAULT_BACKOFF, delayFor, forgiveSince, goDuration, pullFailed, pullRetryAt, restartDecision } from '../../../src/agent/backoff.js';
import { encodeFrame, FrameDemuxer } from '../../../src/agent/frames.js';
import { attachEndStatus, CHANNEL, decodeMessage, encodeMessage, execQuery, exitStatus, parseAttachQuery, parseExecQuery, parseResize, pickProtocol, readStatus } from '../../../src/agent/channel.js';
import { httpProbeURL, initialCounter, nextProbeDelay, probeTiming, recordProbe, resolvePort } from '../../../src/agent/probe-state.js';
import { admitPod, podRequests } from '../../../src/agent/admit.js';
import { decideNetwork, type NetworkSummary } from '../../../src/agent/network.js';
import { goArch, nodeObject, readyCondition } from '../../../src/agent/node-status.js';
import { primaryIPv4 } from '../../../src/host/node-ips.js';
import { checkStreamable, logContainerId, parseLogQuery, selectContainer, statusHttpResponse } from '../../../src/agent/stream-select.js';
import { RuntimeCache } from '../../../src/agent/runtime-cache.js';
import { dockerTime, fromSummary } from '../../../src/agent/observed.js';
import { instanceLock, refersTo } from '../../../src/agent/agent-support.js';
import { dockerMessage } from '../../../src/agent/docker.js';
import { errors } from '../../../src/api/errors.js';
import { app, container, iso, pod, sandbox, T0, UID } from './fixtures.js';
import { cidrsOverlap } from '../../../src/util/ip.js';

// ---------- back-off ----------

test('back-off: immediate, then 10s doubling to 5m; reset after 10 minutes of running', (t) => {
  t.deepEqual([0, 1, 2, 3, 5, 6, 9].map((n) => delayFor(n, DEFAULT_BACKOFF)), [0, 10_000, 20_000, 40_000, 160_000, 300_000, 300_000]);
  const now = T0 + 100_000;
  const short = { startedAt: iso(now - 5000), finishedAt: iso(now - 4000) };
  t.is(restartDecision(undefined, short, now, DEFAULT_BACKOFF).restartAt, now - 4000);
  const d = restartDecision({ failures: 3 }, short, now, DEFAULT_BACKOFF);
  t.is(d.delayMs, 40_000);
  t.is(d.restartAt, now - 4000 + 40_000);
  t.is(d.next.failures, 4);
  const long = { startedAt: iso(now - 700_000), finishedAt: iso(now - 1000) };
  const reset = restartDecision({ failures: 7 }, long, now, DEFAULT_BACKOFF);
  t.is(reset.delayMs, 0);
  t.is(reset.next.failures, 1);
});

test('back-off base from the environment, kubelet defaults otherwise', (t) => {
  t.deepEqual(backoffFromEnv({}), DEFAULT_BACKOFF);
  const fast = backoffFromEnv({ KUBELITE_BACKOFF_BASE_MS: '200' });
  t.is(fast.baseMs, 200);
  t.is(fast.maxMs, 6000);
  t.is(backoffFromEnv({ KUBELITE_BACKOFF_BASE_MS: 'abc' }).baseMs, 10_000);
});

test('pull back-off and Go durations', (t) => {
  const e = pullFailed(pullFailed(undefined, T0), T0 + 1000);
  t.deepEqual(e, { failures: 2, lastFailureAt: T0 + 1000 });
  t.is(pullRetryAt(e, DEFAULT_BACKOFF), T0 + 1000 + 20_000);
  t.is(pullRetryAt(undefined, DEFAULT_BACKOFF), undefined);
  t.deepEqual([10_000, 80_000, 300_000, 200, 1500, 3_725_000].map(goDuration), ['10s', '1m20s', '5m0s', '200ms', '1.5s', '1h2m5s']);
});

// ---------- Docker frames ----------

test('frames: headers stripped whatever the chunking, stdout and stderr told apart', (t) => {
  const bytes = Buffer.concat([encodeFrame(1, 'hello\n'), encodeFrame(2, 'oops\n'), encodeFrame(1, 'x'.repeat(300))]);
  for (const size of [1, 3, 7, 8, 9, 64, bytes.length]) {
    const d = new FrameDemuxer();
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += size) for (const f of d.push(bytes.subarray(i, i + size))) out.push(`${f.stream}:${f.data.toString()}`);
    t.deepEqual(out, ['1:hello\n', '2:oops\n', `1:${'x'.repeat(300)}`], `chunk ${size}`);
    t.is(d.pending, 0);
  }
});

// ---------- exec channel protocol ----------

test('channel protocol: subprotocol choice, framing, resize, exit statuses as kubectl reads them', (t) => {
  t.is(pickProtocol(['v4.channel.k8s.io', 'v5.channel.k8s.io']), 'v5.channel.k8s.io');
  t.is(pickProtocol(['v4.channel.k8s.io']), 'v4.channel.k8s.io');
  t.is(pickProtocol(['channel.k8s.io', 'base64.channel.k8s.io']), undefined);
  const m = decodeMessage(encodeMessage(CHANNEL.stderr, 'err'));
  t.deepEqual({ c: m?.channel, d: m?.data.toString() }, { c: 2, d: 'err' });
  t.is(decodeMessage(Buffer.alloc(0)), undefined);
  t.deepEqual(parseResize(Buffer.from('{"Width":120,"Height":40}')), { width: 120, height: 40 });
  t.is(parseResize(Buffer.from('{"Width":0}')), undefined);
  t.deepEqual(exitStatus(0, ['true']), { metadata: {}, status: 'Success' });
  const fail = exitStatus(3, ['sh', '-c', 'exit 3']);
  t.is(fail.reason, 'NonZeroExitCode');
  t.deepEqual(fail.details, { causes: [{ reason: 'ExitCode', message: '3' }] });
  t.deepEqual(readStatus(JSON.stringify(fail)), { exitCode: 3, message: 'command terminated with exit code 3' });
  t.deepEqual(readStatus('{"metadata":{},"status":"Success"}'), { exitCode: 0 });
  t.deepEqual(readStatus('{"status":"Failure","message":"container not found"}'), { exitCode: 1, message: 'container not found' });
});

test('exec query: repeated command, flags, tty merges stderr, something to attach', (t) => {
  const q = execQuery({ command: ['sh', '-c', 'echo a b'], container: 'c', stdin: true, stdout: true, stderr: true, tty: false });
  const r = parseExecQuery(new URLSearchParams(q));
  t.deepEqual(r, { command: ['sh', '-c', 'echo a b'], container: 'c', stdin: true, stdout: true, stderr: true, tty: false });
  t.false(parseExecQuery(new URLSearchParams('command=sh&stdout=true&stderr=true&tty=true')).stderr);
  t.throws(() => parseExecQuery(new URLSearchParams('stdout=true')), { message: /at least one command/ });
  t.throws(() => parseExecQuery(new URLSearchParams('command=ls')), { message: /at least 1 of stdin, stdout, stderr/ });
});

test('attach query: kubectl attach / run -i flags (ParseBool spellings), tty merges stderr, Success at the end', (t) => {
  t.deepEqual(parseAttachQuery(new URLSearchParams('container=app&stdin=True&stdout=1&stderr=t&tty=false')), { container: 'app', stdin: true, stdout: true, stderr: true, tty: false });
  t.false(parseAttachQuery(new URLSearchParams('stdout=true&stderr=true&tty=true')).stderr);
  t.throws(() => parseAttachQuery(new URLSearchParams('container=app')), { message: /at least 1 of stdin, stdout, stderr/ });
  t.throws(() => parseAttachQuery(new URLSearchParams('stdout=yes')), { message: /stdout: Invalid value: "yes"/ });
  t.deepEqual(attachEndStatus(), { metadata: {}, status: 'Success' });
});

// ---------- probes ----------

test('probe counting: thresholds, initial values, liveness restart resets the run', (t) => {
  const probe = { successThreshold: 2, failureThreshold: 3 };
  let r = initialCounter('readiness');
  t.is(r.result, false);
  let step = recordProbe(r, true, probe, 'readiness');
  t.false(step.changed);
  step = recordProbe(step.state, true, probe, 'readiness');
  t.true(step.changed);
  t.is(step.state.result, true);
  r = step.state;
  for (let i = 0; i < 2; i++) r = recordProbe(r, false, probe, 'readiness').state;
  t.is(r.result, true);
  step = recordProbe(r, false, probe, 'readiness');
  t.true(step.changed);
  t.is(step.state.result, false);

  let l = initialCounter('liveness');
  t.is(l.result, true);
  for (let i = 0; i < 2; i++) l = recordProbe(l, false, { failureThreshold: 3 }, 'liveness').state;
  const dead = recordProbe(l, false, { failureThreshold: 3 }, 'liveness');
  t.true(dead.changed);
  t.is(dead.state.result, false);
  t.is(dead.state.run, 0);
  t.is(initialCounter('startup').result, undefined);
});

test('probe targets: named ports, URL from the pod IP, timing defaults, quick first readiness retries', (t) => {
  const c = container('app', { ports: [{ name: 'http', containerPort: 8080 }] });
  t.is(resolvePort('http', c), 8080);
  t.is(resolvePort(9000, c), 9000);
  t.throws(() => resolvePort('nope', c), { message: /unable to find port "nope"/ });
  t.is(httpProbeURL({ port: 'http', path: 'ready' }, c, '10.244.0.3').href, 'http://10.244.0.3:8080/ready');
  t.is(httpProbeURL({ port: 8443, scheme: 'HTTPS', host: '127.0.0.1' }, c, '10.244.0.3').href, 'https://127.0.0.1:8443/');
  const timing = probeTiming({});
  t.deepEqual(timing, { initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1000 });
  t.is(nextProbeDelay('readiness', timing, false, 0), 50);
  t.is(nextProbeDelay('readiness', timing, false, 3), 400);
  t.is(nextProbeDelay('readiness', timing, false, 20), 10_000);
  t.is(nextProbeDelay('readiness', timing, true, 0), 10_000);
  t.is(nextProbeDelay('liveness', timing, false, 0), 10_000);
});

// ---------- admission ----------

test('admission refuses what does not fit, with the kubelet wording', (t) => {
  const alloc = { cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, pods: 3 };
  const big = pod({ containers: [container('a', { resources: { limits: { cpu: '64' } } })] });
  const v = admitPod(big, [], alloc);
  t.deepEqual(v, { ok: false, reason: 'OutOfcpu', message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: 0, capacity: 2000" });
  const half = (uid: string) => pod({ containers: [container('a', { resources: { requests: { cpu: '1', memory: '1Gi' } } })] }, { metadata: { name: uid, uid } });
  t.true(admitPod(half('a'), [half('b')], alloc).ok);
  t.is((admitPod(half('a'), [half('b'), half('c')], alloc) as { reason: string }).reason, 'OutOfcpu');
  t.is((admitPod(pod(), [half('b'), half('c'), half('d')], alloc) as { reason: string }).reason, 'OutOfpods');
  const mem = pod({ containers: [container('a', { resources: { requests: { memory: '5Gi' } } })] });
  t.is((admitPod(mem, [], alloc) as { reason: string }).reason, 'OutOfmemory');
  t.deepEqual(podRequests(pod({ initContainers: [container('i', { resources: { requests: { cpu: '3' } } })], containers: [container('a', { resources: { requests: { cpu: '1' } } })] })), { cpuMillis: 3000, memoryBytes: 0 });
});

// ---------- network ----------

test('network decision: reuse ours, create, recreate a changed one, refuse foreign clashes', (t) => {
  const want = { name: 'kubelite-t2', subnet: '10.200.2.0/24', bridge: 'kl0-t2', instanceLabel: 'io.kubelite.instance', instanceValue: 't2' };
  const ours: NetworkSummary = { id: 'n1', name: 'kubelite-t2', driver: 'bridge', subnets: ['10.200.2.0/24'], bridgeName: 'kl0-t2', labels: { 'io.kubelite.instance': 't2' } };
  t.deepEqual(decideNetwork([ours], want), { action: 'reuse', id: 'n1' });
  t.deepEqual(decideNetwork([], want), { action: 'create' });
  t.is(decideNetwork([{ ...ours, subnets: ['10.200.9.0/24'] }], want).action, 'recreate');
  t.is(decideNetwork([{ ...ours, subnets: ['10.200.9.0/24'], containers: 2 }], want).action, 'refuse');
  const foreign = decideNetwork([{ id: 'x', name: 'other', driver: 'bridge', subnets: ['10.200.0.0/16'], labels: {} }], want);
  t.is(foreign.action, 'refuse');
  t.regex((foreign as { message: string }).message, /overlaps Docker network "other" \(10\.200\.0\.0\/16\)/);
  t.is(decideNetwork([{ ...ours, labels: {} }], want).action, 'refuse');
  t.is(decideNetwork([{ id: 'y', name: 'b', driver: 'bridge', subnets: ['172.30.0.0/16'], bridgeName: 'kl0-t2', labels: {} }], want).action, 'refuse');
  t.true(cidrsOverlap('10.0.0.0/8', '10.1.2.0/24'));
  t.false(cidrsOverlap('10.0.0.0/24', '10.0.1.0/24'));
});

// ---------- node ----------

test('the primary address is on the default route interface', (t) => {
  const routes = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nlo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n';
  const ifaces = { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }], docker0: [{ address: '172.17.0.1', family: 'IPv4', internal: false }], eth0: [{ address: '192.0.2.2', family: 'IPv4', internal: false }] };
  t.is(primaryIPv4(routes, ifaces), '192.0.2.2');
  t.is(primaryIPv4('', ifaces), '192.0.2.2');
  t.is(primaryIPv4('', { lo: ifaces.lo }), '127.0.0.1');
});

test('the Node object: capacity from docker info, pod CIDR, Ready and NotReady', (t) => {
  const facts = { ncpu: 2, memTotal: 25276510208, serverVersion: '20.10.24', kernelVersion: '6.1', operatingSystem: 'Debian', architecture: 'x86_64', osType: 'linux' };
  const id = { name: 'vm', hostname: 'vm', hostIP: '192.0.2.2', podCIDR: '10.244.0.0/24', kubeletVersion: 'v1.32.0-kubelite' };
  const n = nodeObject(id, facts, { ok: true, message: 'ok' }, T0);
  t.deepEqual(n.status?.capacity, { cpu: '2', memory: '24684092Ki', pods: '110' });
  t.is(n.spec.podCIDR, '10.244.0.0/24');
  t.is(n.metadata.labels?.['kubernetes.io/arch'], 'amd64');
  t.is(n.status?.nodeInfo?.containerRuntimeVersion, 'docker://20.10.24');
  t.deepEqual(n.status?.addresses, [{ type: 'InternalIP', address: '192.0.2.2' }, { type: 'Hostname', address: 'vm' }]);
  const ready = n.status!.conditions!.find((c) => c.type === 'Ready')!;
  t.is(ready.status, 'True');
  const down = readyCondition(n.status!.conditions, false, 'container runtime is down', T0 + 20_000);
  t.is(down.status, 'False');
  t.is(down.reason, 'KubeletNotReady');
  t.is(down.lastTransitionTime, iso(T0 + 20_000));
  t.is(readyCondition([down], false, 'x', T0 + 30_000).lastTransitionTime, iso(T0 + 20_000));
  t.is(goArch('aarch64'), 'arm64');
});

// ---------- logs / exec requests ----------

test('container selection and log targets with the kubelet messages', (t) => {
  const two = pod({ containers: [container('a'), container('b')], initContainers: [container('i')] });
  t.throws(() => selectContainer(two, undefined), { message: 'a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i]' });
  t.is(selectContainer(pod(), undefined), 'app');
  t.throws(() => selectContainer(pod(), 'x'), { message: 'container x is not valid for pod web' });
  const running = pod({}, { status: { containerStatuses: [{ name: 'app', ready: true, restartCount: 1, image: 'i', imageID: '', containerID: 'docker://cur', state: { running: {} }, lastState: { terminated: { exitCode: 1, containerID: 'docker://prev' } } }] } });
  t.is(logContainerId(running, 'app', false), 'cur');
  t.is(logContainerId(running, 'app', true), 'prev');
  const crashing = pod({}, { status: { containerStatuses: [{ name: 'app', ready: false, restartCount: 1, image: 'i', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, containerID: 'docker://dead' } } }] } });
  t.is(logContainerId(crashing, 'app', false), 'dead');
  const fresh = pod({}, { status: { containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'i', imageID: '', state: { running: {} }, lastState: {}, containerID: 'docker://c' }] } });
  t.throws(() => logContainerId(fresh, 'app', true), { message: 'previous terminated container "app" in pod "web" not found' });
  const pulling = pod({}, { status: { containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'i', imageID: '', state: { waiting: { reason: 'ImagePullBackOff' } }, lastState: {} }] } });
  t.throws(() => logContainerId(pulling, 'app', false), { message: 'container "app" in pod "web" is waiting to start: image can\'t be pulled' });
  t.throws(() => logContainerId(pod(), 'app', false), { message: 'container "app" in pod "web" is waiting to start: ContainerCreating' });
  t.throws(() => checkStreamable(pod({ nodeName: undefined }), 'log'), { message: 'pod web does not have a host assigned' });
  t.throws(() => checkStreamable(pod({}, { status: { phase: 'Succeeded' } }), 'exec'), { message: /cannot exec into a container in a completed pod/ });
});

test('log query parameters', (t) => {
  const o = parseLogQuery({ container: 'c', follow: 'true', tailLines: '5', timestamps: '1', sinceSeconds: '10', limitBytes: '100' }, T0);
  t.deepEqual(o, { container: 'c', follow: true, previous: false, timestamps: true, tailLines: 5, limitBytes: 100, since: T0 / 1000 - 10 });
  t.throws(() => parseLogQuery({ tailLines: '-1' }), { message: /tailLines/ });
  t.throws(() => parseLogQuery({ sinceSeconds: '5', sinceTime: '2026-01-01T00:00:00Z' }), { message: /at most one of/ });
  t.is(parseLogQuery({ sinceTime: '2026-01-01T00:00:10Z' }).since, Date.parse('2026-01-01T00:00:10Z') / 1000);
});

test('an upgrade refused before it starts is an HTTP response with a Status body', (t) => {
  const r = statusHttpResponse(errors.notFound('pods', 'x'));
  t.true(r.startsWith('HTTP/1.1 404 Not Found\r\n'));
  t.regex(r, /\r\n\r\n\{"apiVersion":"v1","kind":"Status".*"pods \\"x\\" not found"/);
});

test('back-offs recorded since the engine went away are forgiven; older ones stay', (t) => {
  const entries = new Map([
    ['crashy', { failures: 4, lastFailureAt: 1_000 }],
    ['stopped-by-engine', { failures: 1, lastFailureAt: 5_000 }],
    ['POD', { failures: 2, lastFailureAt: 6_000 }],
    ['never', { failures: 0 }],
  ]);
  t.is(forgiveSince(entries, 5_000), 2);
  t.deepEqual([...entries.keys()], ['crashy', 'never']);
});

// ---------- runtime view ----------

test('the runtime cache indexes by pod and keeps inspect details across relists', (t) => {
  const cache = new RuntimeCache();
  const sb = sandbox();
  const c = app('app', sb);
  cache.set(sb);
  cache.set(c);
  t.is(cache.forPod('default/web').length, 2);
  const listed = { ...c, startedAt: undefined, inspected: false };
  const r = cache.replaceAll([listed]);
  t.deepEqual(r.needInspect, []);
  t.deepEqual([...r.changedPods], ['default/web']);
  t.is(cache.get(c.id)?.startedAt, c.startedAt, 'kept what inspect said');
  t.is(cache.get(sb.id), undefined);
  const r2 = cache.replaceAll([{ ...listed, state: 'exited' }]);
  t.deepEqual(r2.needInspect, [c.id]);
  cache.delete(c.id);
  t.deepEqual(cache.podKeys(), []);
});

test('list entries map to observed containers only when they carry our labels', (t) => {
  const labels = { 'io.kubelite.role': 'infra', 'io.kubernetes.pod.uid': UID, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.container.name': 'POD', 'io.kubernetes.container.restartCount': '2' };
  const summary = { Id: 'abc', Names: ['/k8s_POD_web'], Image: 'kubelite/pause:1', ImageID: 'sha256:p', Command: '', Created: 100, Ports: [], Labels: labels, State: 'running', Status: 'Up', HostConfig: { NetworkMode: 'kubelite-t2' }, NetworkSettings: { Networks: { 'kubelite-t2': { IPAddress: '10.200.2.4' } } }, Mounts: [] };
  const o = fromSummary(summary as never, 'kubelite-t2');
  t.like(o, { id: 'abc', name: 'k8s_POD_web', role: 'infra', restartCount: 2, ip: '10.200.2.4', state: 'running', createdAt: 100_000, inspected: false });
  t.is(fromSummary({ ...summary, Labels: { foo: 'bar' } } as never, 'kubelite-t2'), undefined);
  t.is(dockerTime('0001-01-01T00:00:00Z'), undefined);
  t.is(dockerTime('2026-11-25T07:57:10.148426099Z'), '2026-11-25T07:57:10Z');
});

test('pods are re-synced when a ConfigMap or Secret they use changes', (t) => {
  const p = pod({ volumes: [{ name: 'v', secret: { secretName: 's' } }], containers: [container('app', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }] })] });
  t.true(refersTo(p, 'configMap', 'c'));
  t.true(refersTo(p, 'secret', 's'));
  t.false(refersTo(p, 'configMap', 's'));
});

test('Docker error messages lose docker-modem\'s prefix', (t) => {
  const e = Object.assign(new Error('(HTTP code 500) server error - Get "http://127.0.0.1:5999/v2/": connection refused '), { statusCode: 500, json: null });
  t.is(dockerMessage(e), 'Get "http://127.0.0.1:5999/v2/": connection refused');
  t.is(dockerMessage(Object.assign(new Error('x'), { json: { message: 'No such image: a:1' } })), 'No such image: a:1');
});

test('one agent per instance on a host: the second one is refused, the lock frees itself', async (t) => {
  const name = `u${process.pid % 100000}`;
  const first = await instanceLock(name);
  await t.throwsAsync(instanceLock(name), { message: /another kubelite agent of instance "u\d+" is running on this host/ });
  await new Promise<void>((r) => first.close(() => r()));
  const again = await instanceLock(name);
  t.true(again.listening);
  again.close();
});
