// The locally built images on the real engine: every request goes to a container's address on a bridge
// network this file creates (kltest-images-<tag>), which it removes afterwards with its containers.

import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { buildImages, ensureImages, IMAGE_LABELS, IMAGES } from '../../src/images/index.js';
import {
  TEST_LABEL,
  containerLogs,
  createTestNetwork,
  dockerAvailable,
  dockerClient,
  execIn,
  httpRequest,
  pid1Catches,
  randomTag,
  removeContainersByLabel,
  removeNetworksByLabel,
  removeStale,
  runContainer,
  signalAndWait,
  tcpExchange,
  udpExchange,
  waitFor,
} from '../helpers/docker.js';

const SIGTERM = 15;
const tag = randomTag();
const network = `kltest-images-${tag}`;
const labels = { [TEST_LABEL]: `images-${tag}` };
const docker = dockerClient();
let counter = 0;

async function start(image: string, opts: { cmd?: string[]; env?: Record<string, string>; hostname?: string } = {}) {
  return runContainer({ name: `${network}-${++counter}`, image, network, labels, ...opts });
}

async function httpUp(url: string) {
  return waitFor(() => httpRequest(url, { timeoutMs: 1000 }), 10_000);
}

test.before(async () => {
  if (!(await dockerAvailable(docker))) throw new Error('no Docker engine answers: run scripts/ensure-docker.sh (as root)');
  await removeStale(TEST_LABEL, 'images-');
  await buildImages({ docker, only: ['all'] });
  await createTestNetwork(network, labels, docker);
});

test.after.always(async () => {
  await removeContainersByLabel(TEST_LABEL, labels[TEST_LABEL], docker);
  await removeNetworksByLabel(TEST_LABEL, labels[TEST_LABEL], docker);
});

test('a second build finds every image up to date and labelled with its hash', async (t) => {
  const again = await buildImages({ docker, only: ['all'] });
  t.deepEqual(
    again.map((b) => [b.ref, b.built]),
    [
      [IMAGES.echo, false],
      [IMAGES.pause, false],
      [IMAGES.node, false],
    ],
  );
  for (const b of again) {
    const info = await docker.getImage(b.ref).inspect();
    t.is(info.Config.Labels?.[IMAGE_LABELS.hash], b.hash);
    t.regex(b.hash, /^[0-9a-f]{64}$/);
  }
  t.log(again.map((b) => `${b.ref} ${(b.sizeBytes / 1e6).toFixed(1)} MB, checked in ${b.seconds}s`).join('; '));
});

test('ensureImages handles kubelite images and ignores the others', async (t) => {
  const out = await ensureImages(docker, ['kubelite/echo:1', 'nginx:1.27', 'pause']);
  t.deepEqual(
    out.map((b) => b.key),
    ['echo', 'pause'],
  );
  t.true(out.every((b) => !b.built));
});

test('echo answers every path with the pod name, its IP, the path and the Host header', async (t) => {
  const { ip } = await start(IMAGES.echo, { hostname: 'echo-a' });
  const root = await httpUp(`http://${ip}:8080/`);
  t.is(root.status, 200);
  t.is(root.body, `pod=echo-a ip=${ip} path=/ host=${ip}:8080\n`);
  const deep = await httpRequest(`http://${ip}:8080/some/deep/path?x=1&y=2`, { headers: { Host: 'shop.example.test' } });
  t.is(deep.status, 200);
  t.is(deep.body, `pod=echo-a ip=${ip} path=/some/deep/path host=shop.example.test\n`);
  t.is(deep.headers['x-pod-name'], 'echo-a');
  const post = await httpRequest(`http://${ip}:8080/form`, { method: 'POST', body: 'a=1&b=2' });
  t.is(post.body, `pod=echo-a ip=${ip} path=/form host=${ip}:8080\n`);
});

test('echo takes POD_NAME, POD_IP and PORT from the environment', async (t) => {
  const { ip } = await start(IMAGES.echo, { env: { PORT: '9090', POD_NAME: 'named-pod', POD_IP: '10.1.2.3', STATIC_PORT: '0' } });
  const res = await httpUp(`http://${ip}:9090/x`);
  t.is(res.body, `pod=named-pod ip=10.1.2.3 path=/x host=${ip}:9090\n`);
  await t.throwsAsync(httpRequest(`http://${ip}:8080/`, { timeoutMs: 1000 }), { message: /ECONNREFUSED/ });
  await t.throwsAsync(httpRequest(`http://${ip}:8081/static`, { timeoutMs: 1000 }), { message: /ECONNREFUSED/ });
});

test('/healthz and /ready follow /tmp/unhealthy and /tmp/unready', async (t) => {
  const { id, ip } = await start(IMAGES.echo);
  const base = `http://${ip}:8080`;
  await httpUp(`${base}/healthz`);
  const probe = async (path: string) => {
    const r = await httpRequest(`${base}${path}`);
    return `${r.status} ${r.body.trim()}`;
  };
  t.is(await probe('/healthz'), '200 ok');
  t.is(await probe('/ready'), '200 ok');
  t.is((await execIn(id, ['touch', '/tmp/unready'])).exitCode, 0);
  t.is(await probe('/ready'), '503 unready');
  t.is(await probe('/healthz'), '200 ok');
  await execIn(id, ['touch', '/tmp/unhealthy']);
  t.is(await probe('/healthz'), '500 unhealthy');
  await execIn(id, ['rm', '/tmp/unready', '/tmp/unhealthy']);
  t.is(await probe('/ready'), '200 ok');
  t.is(await probe('/healthz'), '200 ok');
});

test('/sleep?ms=300 answers after at least 300 ms; a bad ms is a 400', async (t) => {
  const { ip } = await start(IMAGES.echo, { hostname: 'sleepy' });
  await httpUp(`http://${ip}:8080/`);
  const slow = await httpRequest(`http://${ip}:8080/sleep?ms=300`);
  t.is(slow.status, 200);
  t.true(slow.ms >= 300, `answered after ${slow.ms} ms`);
  t.true(slow.ms < 3000, `answered after ${slow.ms} ms`);
  t.is(slow.headers['x-slept-ms'], '300');
  t.is(slow.body, `pod=sleepy ip=${ip} path=/sleep host=${ip}:8080\n`);
  t.is((await httpRequest(`http://${ip}:8080/sleep?ms=soon`)).status, 400);
});

test('/static is served on the main port and by httpd on 8081', async (t) => {
  const { ip } = await start(IMAGES.echo);
  const main = await httpUp(`http://${ip}:8080/static`);
  const fast = await httpUp(`http://${ip}:8081/static`);
  t.is(main.status, 200);
  t.is(fast.status, 200);
  t.is(main.body, 'kubelite static page\n');
  t.is(fast.body, main.body);
});

test('tcp-echo sends back what it receives', async (t) => {
  const { ip } = await start(IMAGES.echo, { cmd: ['tcp-echo', '9001'] });
  const reply = await waitFor(() => tcpExchange(ip, 9001, 'hello over tcp\n'), 10_000);
  t.is(reply, 'hello over tcp\n');
  t.is(await tcpExchange(ip, 9001, 'x'.repeat(100_000)), 'x'.repeat(100_000));
});

test('udp-echo: the busybox image says it cannot, the node image echoes datagrams', async (t) => {
  const { id } = await start(IMAGES.echo, { cmd: ['udp-echo', '9000'] });
  const exit = (await docker.getContainer(id).wait()) as { StatusCode: number };
  t.is(exit.StatusCode, 2);
  const logs = await containerLogs(id);
  t.regex(logs, /busybox nc has no UDP mode\); use image kubelite\/node:20/);

  const node = await start(IMAGES.node, { cmd: ['udp-echo', '9000'] });
  const reply = await waitFor(() => udpExchange(node.ip, 9000, 'hello over udp', 500), 10_000);
  t.is(reply, 'hello over udp');
});

test('node image: ws-echo answers HTTP like echo and echoes WebSocket messages', async (t) => {
  const { ip } = await start(IMAGES.node, { hostname: 'ws-pod' });
  const res = await httpUp(`http://${ip}:8080/p?q=1`);
  t.is(res.body, `pod=ws-pod ip=${ip} path=/p host=${ip}:8080\n`);
  const ws = new WebSocket(`ws://${ip}:8080/chat`);
  t.teardown(() => ws.terminate());
  const podHeader = new Promise<string | undefined>((resolve) => ws.on('upgrade', (r) => resolve(r.headers['x-pod-name'] as string | undefined)));
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  const echoed = new Promise<string>((resolve) => ws.on('message', (m) => resolve(m.toString())));
  ws.send('hello over websocket');
  t.is(await echoed, 'hello over websocket');
  t.is(await podHeader, 'ws-pod');
});

// Each stops on TERM only once its handler is in place, and PID 1 ignores TERM before that. The start
// line each server prints comes after its handler; pause prints nothing, so its SigCgt is read instead
// (not usable for node: node's own startup handler re-raises TERM, which PID 1 then ignores).
const stoppers: Array<[string, string, string[] | undefined, RegExp | undefined]> = [
  ['echo (echo-server)', IMAGES.echo, undefined, /^echo-server: http on :8080/m],
  ['echo (tcp-echo)', IMAGES.echo, ['tcp-echo', '9001'], /^tcp-echo: listening on :9001/m],
  ['pause', IMAGES.pause, undefined, undefined],
  ['node (ws-echo)', IMAGES.node, undefined, /^ws-echo: http and websocket on :8080/m],
  ['node (udp-echo)', IMAGES.node, ['udp-echo', '9000'], /^udp-echo: listening on :9000/m],
];
for (const [title, image, cmd, started] of stoppers) {
  test(`SIGTERM stops ${title} within 2 s`, async (t) => {
    const { id } = await start(image, { cmd });
    if (started) await waitFor(async () => started.test(await containerLogs(id)), 10_000);
    else await waitFor(() => pid1Catches(id, SIGTERM), 10_000);
    const { ms, exitCode } = await signalAndWait(id, 'SIGTERM');
    t.true(ms < 2000, `took ${Math.round(ms)} ms`);
    t.is(exitCode, 0);
    t.log(`${title}: exited ${Math.round(ms)} ms after SIGTERM`);
  });
}

test('pause reaps the orphans it inherits; start and forced removal are quick', async (t) => {
  const t0 = performance.now();
  const { id } = await start(IMAGES.pause);
  const startMs = performance.now() - t0;
  await waitFor(() => pid1Catches(id, SIGTERM), 10_000);
  // the inner sh exits at once, so its sleep is re-parented to PID 1 (pause)
  const orphaned = await execIn(id, ['sh', '-c', 'sh -c "sleep 0.4 &"; sleep 0.1; ps -o pid,ppid,stat,args']);
  t.regex(orphaned.stdout, /^\s*\d+\s+1\s+\S+\s+sleep 0\.4\s*$/m);
  await sleep(700);
  const after = await execIn(id, ['ps', '-o', 'pid,ppid,stat,args']);
  t.notRegex(after.stdout, /sleep 0\.4/);
  t.notRegex(after.stdout, /^\s*\d+\s+\d+\s+Z/m);
  const t1 = performance.now();
  await docker.getContainer(id).remove({ force: true });
  const removeMs = performance.now() - t1;
  t.log(`pause: create+start ${Math.round(startMs)} ms, rm -f ${Math.round(removeMs)} ms`);
  t.true(startMs < 10_000);
  t.true(removeMs < 10_000);
});
