// The real kubectl on Pods that really run: a `kubelite server` (slot 13) with its agent, scheduler and
// controllers on the local Docker engine. rollout status|restart|history|undo, scale, logs (-f, -c,
// --tail, deploy/NAME), exec (plain, -i, -t, exit codes), port-forward to a Pod, describe with the
// events the components record, and delete --wait on a Pod its node has to stop. Needs root and Docker;
// every container and network of instance t13 is removed afterwards.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { R } from '../../src/api/resources.js';
import type { Pod } from '../../src/api/types.js';
import { LABELS } from '../../src/agent/labels.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable, dockerClient } from '../helpers/docker.js';
import { kubectlFor, normalizeTable, tableRows, type Kubectl } from '../helpers/kubectl.js';
import { withKubectl } from '../helpers/kubectl-suite.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 13;

withKubectl('kubectl on running workloads', suite);

function suite(bin: string): void {
  let server: TestServer | undefined;
  let k: Kubectl;
  let tmp: string;
  const NS = 'work';

  test.before(async () => {
    if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
    server = await startTestServer({ slot: SLOT, args: ['--disable', 'proxy,dns,ingress'] });
    k = kubectlFor(server.kubeconfig, bin);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-kubectl-work-'));
    const ns = await k(['create', 'namespace', NS]);
    if (ns.code !== 0) throw new Error(ns.stderr);
  });

  test.after.always(async () => {
    await tearDownServer(server, SLOT);
    k?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const srv = () => {
    if (!server) throw new Error('no server');
    return server;
  };

  function file(name: string, text: string): string {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, text);
    return p;
  }

  const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${NS}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: kubelite/echo:1
        ports: [{containerPort: 8080, name: http}]
`;

  async function webPods(): Promise<string[]> {
    const r = await k(['get', 'pods', '-n', NS, '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[*].metadata.name}']);
    return r.stdout.split(' ').filter(Boolean);
  }

  test.serial('kubectl apply a Deployment, then rollout status waits until it is available', async (t) => {
    const a = await k(['apply', '-f', file('web.yaml', WEB)]);
    t.is(a.code, 0, a.stderr);
    t.is(a.stdout, 'deployment.apps/web created\n');
    const s = await k(['rollout', 'status', 'deploy/web', '-n', NS, '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(s.code, 0, s.stderr + s.stdout);
    t.regex(s.stdout, /deployment "web" successfully rolled out\n$/);
    const pods = await k(['get', 'pods', '-n', NS, '-l', 'app=web']);
    const rows = tableRows(pods.stdout).slice(1);
    t.is(rows.length, 2, pods.stdout);
    for (const r of rows) t.deepEqual(r.slice(1, 4), ['1/1', 'Running', '0'], pods.stdout);
    const rs = await k(['get', 'rs', '-n', NS]);
    t.regex(normalizeTable(rs.stdout), /^web-[a-z0-9]+  2  2  2  AGE$/m);
    const d = await k(['get', 'deploy', 'web', '-n', NS]);
    t.is(normalizeTable(d.stdout), normalizeTable('NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/2     2            2           5s'));
  });

  test.serial('kubectl scale to 3 (scale subresource) and the controllers follow', async (t) => {
    const s = await k(['scale', 'deploy/web', '--replicas=3', '-n', NS]);
    t.is(s.code, 0, s.stderr);
    t.is(s.stdout, 'deployment.apps/web scaled\n');
    const st = await k(['rollout', 'status', 'deploy/web', '-n', NS, '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(st.code, 0, st.stderr);
    await waitFor(async () => (await webPods()).length === 3, 60_000, 'three running pods');
    t.is((await webPods()).length, 3);
  });

  test.serial('kubectl rollout restart, history and undo', async (t) => {
    const r = await k(['rollout', 'restart', 'deploy/web', '-n', NS]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'deployment.apps/web restarted\n');
    const st = await k(['rollout', 'status', 'deploy/web', '-n', NS, '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(st.code, 0, st.stderr);
    const h = await k(['rollout', 'history', 'deploy/web', '-n', NS]);
    t.is(h.code, 0, h.stderr);
    t.deepEqual(tableRows(h.stdout.replace(/^deployment\.apps\/web\s*\n/, '')), [['REVISION', 'CHANGE-CAUSE'], ['1', '<none>'], ['2', '<none>']]);
    const rev2 = await k(['rollout', 'history', 'deploy/web', '-n', NS, '--revision=2']);
    t.regex(rev2.stdout, /kubectl\.kubernetes\.io\/restartedAt:/);
    const u = await k(['rollout', 'undo', 'deploy/web', '-n', NS]);
    t.is(u.code, 0, u.stderr);
    t.is(u.stdout, 'deployment.apps/web rolled back\n');
    const st2 = await k(['rollout', 'status', 'deploy/web', '-n', NS, '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(st2.code, 0, st2.stderr);
    const h2 = await k(['rollout', 'history', 'deploy/web', '-n', NS]);
    t.deepEqual(tableRows(h2.stdout.replace(/^deployment\.apps\/web\s*\n/, '')), [['REVISION', 'CHANGE-CAUSE'], ['2', '<none>'], ['3', '<none>']]);
    const tpl = await k(['get', 'deploy', 'web', '-n', NS, '-o', 'jsonpath={.spec.template.metadata.annotations}']);
    t.is(tpl.stdout, '', 'undo restored the template without the restart annotation');
  });

  test.serial('kubectl logs: POD, deploy/NAME, -c, --tail, -f', async (t) => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: ticker, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: main
    image: kubelite/echo:1
    command: [sh, -c, 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']
  - name: side
    image: kubelite/echo:1
    command: [sh, -c, 'echo side says hello; echo side line 2; exec sleep 3600']
`;
    t.is((await k(['apply', '-f', file('ticker.yaml', pod)])).code, 0);
    const w = await k(['wait', '--for=condition=Ready', 'pod/ticker', '-n', NS, '--timeout=90s'], { timeoutMs: 100_000 });
    t.is(w.code, 0, w.stderr);
    t.is(w.stdout, 'pod/ticker condition met\n');

    await waitFor(async () => (await k(['logs', 'ticker', '-c', 'main', '-n', NS])).stdout.includes('tick 3'), 20_000, 'four ticks');
    const tail = await k(['logs', 'ticker', '-c', 'main', '--tail=2', '-n', NS]);
    t.is(tail.code, 0, tail.stderr);
    const lines = tail.stdout.trim().split('\n');
    t.is(lines.length, 2);
    t.true(lines.every((l) => /^tick \d+$/.test(l)), tail.stdout);
    t.is(Number(lines[1].split(' ')[1]), Number(lines[0].split(' ')[1]) + 1);

    const side = await k(['logs', 'ticker', '-c', 'side', '-n', NS]);
    t.is(side.stdout, 'side says hello\nside line 2\n');
    const noC = await k(['logs', 'ticker', '-n', NS, '--tail=1']);
    t.is(noC.code, 0, noC.stderr);
    t.regex(noC.stdout, /^tick \d+\n$/, 'the default container is the first one');

    const webPod = (await webPods())[0];
    const viaDeploy = await k(['logs', 'deploy/web', '-n', NS, '--tail=20']);
    t.is(viaDeploy.code, 0, viaDeploy.stderr);
    t.regex(viaDeploy.stdout, /echo-server: http on :8080/);
    t.truthy(webPod);

    const follow = k.spawn(['logs', '-f', 'ticker', '-c', 'main', '-n', NS, '--tail=1']);
    let out = '';
    follow.stdout.on('data', (d) => (out += d));
    t.teardown(() => follow.kill());
    await waitFor(() => out.split('\n').filter(Boolean).length >= 4, 20_000, 'followed lines');
    const got = out.split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1]));
    t.true(got.every((n, i) => i === 0 || n === got[i - 1] + 1), `consecutive ticks: ${got.join(',')}`);
    t.is(follow.exitCode, null, 'logs -f keeps following');
  });

  test.serial('kubectl exec: output, exit codes, stdin (-i) and a TTY (-t)', async (t) => {
    const pod = (await webPods())[0];
    const e = await k(['exec', pod, '-n', NS, '--', 'echo', 'hello from', 'exec']);
    t.is(e.code, 0, e.stderr);
    t.is(e.stdout, 'hello from exec\n');
    const err = await k(['exec', pod, '-n', NS, '--', 'sh', '-c', 'echo to-stderr >&2; exit 3']);
    t.is(err.code, 3);
    t.is(err.stderr, 'to-stderr\ncommand terminated with exit code 3\n');
    const stdin = await k(['exec', '-i', pod, '-n', NS, '--', 'sh', '-c', 'tr a-z A-Z'], { input: 'shout this\n' });
    t.is(stdin.code, 0, stdin.stderr);
    t.is(stdin.stdout, 'SHOUT THIS\n');
    const c = await k(['exec', 'ticker', '-c', 'side', '-n', NS, '--', 'sh', '-c', 'echo $HOSTNAME']);
    t.is(c.stdout.trim(), 'ticker');
    const missing = await k(['exec', pod, '-n', NS, '--', '/no/such/binary']);
    t.not(missing.code, 0);

    // -t needs a terminal on kubectl's side: script(1) gives it one.
    const tty = spawnSync('script', ['-qec', `${k.bin} exec -it ${pod} -n ${NS} -- sh -c 'tty'`, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: os.homedir(), KUBECONFIG: srv().kubeconfig, KUBECACHEDIR: k.cacheDir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    t.is(tty.status, 0, tty.stderr);
    t.regex(tty.stdout, /\/dev\/pts\/\d+/);
  });

  test.serial('kubectl port-forward to a running Pod', async (t) => {
    const pod = (await webPods())[0];
    const child = k.spawn(['port-forward', `pod/${pod}`, ':8080', '-n', NS]);
    t.teardown(() => child.kill());
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const port = await waitFor<number>(() => Number(/127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1]) || 0, 20_000, 'the local port');
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/through-kubectl' }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    t.regex(body, new RegExp(`pod=${pod} ip=10\\.200\\.13\\.\\d+ path=/through-kubectl`));
  });

  test.serial('kubectl describe pod shows what the scheduler and the agent recorded', async (t) => {
    const pod = (await webPods())[0];
    const d = await k(['describe', 'pod', pod, '-n', NS]);
    t.is(d.code, 0, d.stderr);
    t.regex(d.stdout, /^Status:\s+Running$/m);
    t.regex(d.stdout, /^IP:\s+10\.200\.13\.\d+$/m);
    t.regex(d.stdout, /^Controlled By:\s+ReplicaSet\/web-[a-z0-9]+$/m);
    t.regex(d.stdout, /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned work\/web-/);
    t.regex(d.stdout, /Normal\s+Started\s+\S+\s+kubelet/);
    const dd = await k(['describe', 'deploy', 'web', '-n', NS]);
    t.regex(dd.stdout, /^NewReplicaSet:\s+web-[a-z0-9]+ \(3\/3 replicas created\)$/m);
    t.regex(dd.stdout, /ScalingReplicaSet/);
  });

  test.serial('kubectl delete pod --wait returns once the node has stopped it', async (t) => {
    const started = Date.now();
    const d = await k(['delete', 'pod', 'ticker', '-n', NS, '--wait', '--timeout=60s'], { timeoutMs: 70_000 });
    t.is(d.code, 0, d.stderr);
    t.is(d.stdout, 'pod "ticker" deleted\n');
    t.true(Date.now() - started < 30_000);
    await t.throwsAsync(srv().client.get<Pod>(R.pods, NS, 'ticker'), { message: /not found/ });
    const left = await dockerClient().listContainers({ all: true, filters: { label: [`${LABELS.instance}=${srv().slot.instance}`] } });
    t.false(left.some((c) => c.Names.some((n) => n.includes('_ticker_'))), 'its containers are gone');
  });

  test.serial('kubectl delete deployment: the garbage collector removes its ReplicaSets and Pods', async (t) => {
    const d = await k(['delete', 'deploy', 'web', '-n', NS]);
    t.is(d.code, 0, d.stderr);
    t.is(d.stdout, 'deployment.apps "web" deleted\n');
    await waitFor(async () => (await k(['get', 'pods,rs', '-n', NS, '-o', 'name'])).stdout === '', 90_000, 'pods and replicasets gone');
    const left = await k(['get', 'all', '-n', NS]);
    t.is(left.stdout, '');
  });
}
