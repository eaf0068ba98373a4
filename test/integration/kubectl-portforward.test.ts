// `kubectl port-forward` through the API server: SPDY/3.1 framing (pure), then the real kubectl over both
// transports it speaks (WebSocket-tunnelled SPDY, and plain SPDY as its fallback) to a "Pod" whose IP
// lives on a bridge this test creates (no agent needed: the API only sees a Running Pod with that IP).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { R } from '../../src/api/resources.js';
import type { Pod } from '../../src/api/types.js';
import {
  adler32, controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FLAG_FIN, forwardTarget, parseFrames, parsePortForwardPath, SPDY, SPDY_DICTIONARY, StoredHeaderWriter,
} from '../../src/server/portforward.js';
import { cleanupInstance, slotConfig, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { withKubectl } from '../helpers/kubectl-suite.js';

// ------------------------------------------------------------------ pure parts

test('SPDY frames: control and data frames round-trip, partial input stays buffered', (t) => {
  const a = controlFrame(SPDY.PING, 0, Buffer.from([0, 0, 0, 7]));
  const b = dataFrame(3, FLAG_FIN, Buffer.from('hello'));
  const all = Buffer.concat([a, b]);
  const { frames, rest } = parseFrames(all.subarray(0, all.length - 2));
  t.is(frames.length, 1);
  t.deepEqual(frames[0], { control: true, type: SPDY.PING, flags: 0, payload: Buffer.from([0, 0, 0, 7]) });
  const second = parseFrames(Buffer.concat([rest, all.subarray(all.length - 2)]));
  t.deepEqual(second.frames, [{ control: false, streamId: 3, flags: FLAG_FIN, data: Buffer.from('hello') }]);
  t.is(second.rest.length, 0);
  t.throws(() => parseFrames(Buffer.from([0x80, 0x02, 0, 1, 0, 0, 0, 0])), { message: /version 2/ });
});

test('SPDY header blocks: our stored-block zlib stream inflates with the SPDY dictionary, block after block', (t) => {
  t.is(SPDY_DICTIONARY.length, 1423);
  t.is(adler32(SPDY_DICTIONARY), 0xe3c6a7c2);
  const w = new StoredHeaderWriter();
  const blocks = [encodeHeaderBlock({}), encodeHeaderBlock({ streamType: 'data', port: '8080', requestID: '0' })];
  const stream = Buffer.concat(blocks.map((b) => w.wrap(b)));
  const inflated = zlib.inflateSync(stream, { dictionary: SPDY_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  t.deepEqual(inflated, Buffer.concat(blocks));
  t.deepEqual(decodeHeaderBlock(blocks[1]), { streamtype: 'data', port: '8080', requestid: '0' });
  t.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0x61])), { message: /truncated/ });
});

test('forwardTarget: only Running Pods, only inside the pod network, loopback for host-network Pods', (t) => {
  const pod = (status: Pod['status'], hostNetwork = false) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [], hostNetwork }, status }) as Pod;
  t.deepEqual(forwardTarget(pod({ phase: 'Running', podIP: '10.244.1.5' }), 80, '10.244.0.0/16'), { host: '10.244.1.5', port: 80 });
  t.deepEqual(forwardTarget(pod({ phase: 'Running', podIP: '10.99.1.5' }, true), 80, '10.244.0.0/16'), { host: '127.0.0.1', port: 80 });
  t.regex((forwardTarget(pod({ phase: 'Running', podIP: '203.0.113.8' }), 80, '10.244.0.0/16') as { error: string }).error, /outside the pod network/);
  t.regex((forwardTarget(pod({ phase: 'Pending' }), 80, '10.244.0.0/16') as { error: string }).error, /not running/);
  t.regex((forwardTarget(pod({ phase: 'Running', podIP: '10.244.1.5' }), 70000, '10.244.0.0/16') as { error: string }).error, /invalid port/);
  t.deepEqual(parsePortForwardPath('/api/v1/namespaces/ns/pods/web-1/portforward?ports=80'), { namespace: 'ns', name: 'web-1' });
  t.is(parsePortForwardPath('/api/v1/namespaces/ns/pods/web-1/exec'), undefined);
});

// ------------------------------------------------------------------ the real kubectl

const SLOT = 14;
const BRIDGE = `klpf-t${SLOT}`;
const POD_IP = `10.200.${SLOT}.250`;

withKubectl('kubectl port-forward', suite);

function suite(bin: string): void {
  let server: TestServer;
  let k: Kubectl;
  let podServer: net.Server;

  const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });

  test.before(async () => {
    ip('link', 'del', BRIDGE);
    for (const args of [['link', 'add', BRIDGE, 'type', 'bridge'], ['addr', 'add', `${POD_IP}/32`, 'dev', BRIDGE], ['link', 'set', BRIDGE, 'up']]) {
      const r = ip(...args);
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
    // The "Pod": an echo server on the bridge address, which answers "hello" to a connection that sends nothing.
    podServer = net.createServer((sock) => {
      const timer = setTimeout(() => sock.end('hello from the pod\n'), 300);
      sock.once('data', () => clearTimeout(timer));
      sock.pipe(sock);
    });
    await new Promise<void>((resolve, reject) => podServer.listen(8080, POD_IP, resolve).once('error', reject));
    server = await startTestServer({ slot: SLOT, args: ['--disable', 'agent,scheduler,controllers,proxy,dns,ingress'] });
    k = kubectlFor(server.kubeconfig, bin);
    await runningPod('web', POD_IP);
    await runningPod('elsewhere', '192.0.2.10');
  });

  test.after.always(async () => {
    podServer?.close();
    await server?.stop();
    cleanupInstance(server);
    k?.cleanup();
    ip('link', 'del', BRIDGE);
  });

  async function runningPod(name: string, podIP: string): Promise<void> {
    await server.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'kubelite/echo:1' }] } } as Pod);
    const pod = await server.client.get<Pod>(R.pods, 'default', name);
    pod.status = { ...pod.status, phase: 'Running', podIP, podIPs: [{ ip: podIP }] };
    await server.client.update(R.pods, pod, { subresource: 'status' });
  }

  /** Starts `kubectl port-forward` on a free local port; resolves with the port and the child. */
  async function forward(target: string, remote: number, env: Record<string, string> = {}) {
    const child = k.spawn(['port-forward', target, `:${remote}`], env);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const port: number = await waitFor<number>(() => Number(/Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out)?.[1]) || 0, 20_000, `kubectl port-forward to print its port (stderr: ${err})`);
    return { port, child, exited, output: () => out + err };
  }

  function roundTrip(port: number, payload: Buffer | undefined): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      sock.on('data', (d) => chunks.push(d));
      sock.on('error', reject);
      sock.on('end', () => resolve(Buffer.concat(chunks)));
      if (payload) {
        sock.write(payload, () => sock.end());
      }
    });
  }

  for (const [transport, env] of [
    ['WebSocket-tunnelled SPDY', {}],
    ['SPDY (kubectl\'s fallback)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ] as const) {
    test.serial(`kubectl port-forward over ${transport}: several connections and 2 MiB each way`, async (t) => {
      const pf = await forward('pod/web', 8080, env);
      t.teardown(() => pf.child.kill());
      t.is((await roundTrip(pf.port, undefined)).toString(), 'hello from the pod\n');
      const big = crypto.randomBytes(2 * 1024 * 1024);
      const [r1, r2] = await Promise.all([roundTrip(pf.port, big), roundTrip(pf.port, Buffer.from('ping\n'))]);
      t.true(r1.equals(big), `echoed ${r1.length} bytes`);
      t.is(r2.toString(), 'ping\n');
      t.regex(pf.output(), /Handling connection for \d+/);
      t.is(pf.child.exitCode, null, 'kubectl keeps forwarding');
    });
  }

  test.serial('kubectl port-forward to a closed port reports the error from the server', async (t) => {
    const pf = await forward('pod/web', 8081);
    t.teardown(() => pf.child.kill());
    await roundTrip(pf.port, Buffer.from('x')).catch(() => Buffer.alloc(0));
    const code = await pf.exited;
    t.is(code, 1);
    t.regex(pf.output(), /an error occurred forwarding \d+ -> 8081: error forwarding port 8081 to pod: connect ECONNREFUSED 10\.200\.14\.250:8081/);
  });

  test.serial('kubectl port-forward refuses a Pod IP outside the pod network, and Pods that do not run', async (t) => {
    const pf = await forward('pod/elsewhere', 80);
    t.teardown(() => pf.child.kill());
    await roundTrip(pf.port, Buffer.from('x')).catch(() => Buffer.alloc(0));
    t.is(await pf.exited, 1);
    t.regex(pf.output(), /error forwarding port 80: pod elsewhere has IP 192\.0\.2\.10, outside the pod network 10\.200\.14\.0\/24/);

    await server.client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'kubelite/echo:1' }] } } as Pod);
    const r = await k(['port-forward', 'pod/pending', ':80']);
    t.is(r.code, 1);
    t.is(r.stderr.trim(), 'error: unable to forward port because pod is not running. Current status=Pending');
    const missing = await k(['port-forward', 'pod/nope', ':80']);
    t.is(missing.code, 1);
    t.is(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
  });

  test.serial('a plain GET on pods/portforward is a 400 Status, not a hang', async (t) => {
    const r = await server.client.raw('GET', '/api/v1/namespaces/default/pods/web/portforward');
    t.is(r.status, 400);
    t.like(JSON.parse(r.body), { kind: 'Status', reason: 'BadRequest', message: 'Upgrade request required' });
    t.is(slotConfig(SLOT).podCIDR, '10.200.14.0/24');
  });
}
