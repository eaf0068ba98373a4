// DaemonSets on the real engine, driven with the real kubectl (slot 33): one pod per eligible node (here
// the server's own node), rollout status, a rolling update to a new template (revisions, history), and
// a nodeSelector that no node matches until the node gets the label; deleting the DaemonSet takes its
// pods. Needs root and Docker; instance t33 is removed afterwards.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable } from '../helpers/docker.js';
import { kubectlFor, normalizeTable, tableRows, type Kubectl } from '../helpers/kubectl.js';
import { withKubectl } from '../helpers/kubectl-suite.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 33;

withKubectl('DaemonSets', suite);

function suite(bin: string): void {
  let server: TestServer | undefined;
  let k: Kubectl;
  let tmp: string;
  let node = '';

  test.before(async () => {
    if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
    server = await startTestServer({ slot: SLOT, args: ['--disable', 'proxy,dns,ingress'] });
    k = kubectlFor(server.kubeconfig, bin);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-ds-'));
    node = await waitFor(async () => (await k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout, 30_000, 'the node registered');
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
  const podsOf = async (app: string) => (await k(['get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\\n"}{end}'])).stdout.split('\n').filter(Boolean);

  test.serial('a DaemonSet runs one pod on the node; rollout status; a rolling update replaces it', async (t) => {
    const a = await apply('logs.yaml', `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  selector: {matchLabels: {app: logs}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: logs}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: agent
        image: kubelite/echo:1
        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
`);
    t.is(a.code, 0, a.stderr);
    t.is(a.stdout, 'daemonset.apps/logs created\n');
    const st = await k(['rollout', 'status', 'ds/logs', '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(st.code, 0, st.stderr + st.stdout);
    t.regex(st.stdout, /daemon set "logs" successfully rolled out\n$/);
    const pods = await podsOf('logs');
    t.is(pods.length, 1, pods.join('\n'));
    t.regex(pods[0], new RegExp(`^logs-[a-z0-9]{5} ${node} Running $`));
    const g = await k(['get', 'ds', 'logs']);
    t.is(normalizeTable(g.stdout), 'NAME  DESIRED  CURRENT  READY  UP-TO-DATE  AVAILABLE  NODE SELECTOR  AGE\nlogs  1  1  1  1  1  <none>  AGE');

    const before = pods[0].split(' ')[0];
    const e = await k(['set', 'env', 'ds/logs', 'LEVEL=debug']);
    t.is(e.code, 0, e.stderr);
    const st2 = await k(['rollout', 'status', 'ds/logs', '--timeout=120s'], { timeoutMs: 130_000 });
    t.is(st2.code, 0, st2.stderr);
    await waitFor(async () => {
      const now = await podsOf('logs');
      return now.length === 1 && !now[0].startsWith(before) && now[0].endsWith('Running ');
    }, 60_000, 'the old pod replaced');
    const name = (await podsOf('logs'))[0].split(' ')[0];
    const env = await k(['exec', name, '--', 'sh', '-c', 'echo $LEVEL']);
    t.is(env.stdout, 'debug\n');
    const h = await k(['rollout', 'history', 'ds/logs']);
    t.deepEqual(tableRows(h.stdout.replace(/^daemonset\.apps\/logs\s*\n/, '')), [['REVISION', 'CHANGE-CAUSE'], ['1', '<none>'], ['2', '<none>']]);
  });

  test.serial('a nodeSelector no node matches: nothing runs until the node gets the label', async (t) => {
    const a = await apply('gpu.yaml', `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: gpu}
spec:
  selector: {matchLabels: {app: gpu}}
  template:
    metadata: {labels: {app: gpu}}
    spec:
      nodeSelector: {accelerator: tpu}
      terminationGracePeriodSeconds: 1
      containers: [{name: g, image: kubelite/echo:1}]
`);
    t.is(a.code, 0, a.stderr);
    await waitFor(async () => (await k(['get', 'ds', 'gpu', '-o', 'jsonpath={.status.observedGeneration}'])).stdout === '1', 30_000, 'the DaemonSet observed');
    t.is((await k(['get', 'ds', 'gpu', '-o', 'jsonpath={.status.desiredNumberScheduled}'])).stdout, '0');
    t.deepEqual(await podsOf('gpu'), []);
    const l = await k(['label', 'node', node, 'accelerator=tpu']);
    t.is(l.code, 0, l.stderr);
    await waitFor(async () => (await podsOf('gpu')).some((p) => p.endsWith('Running ')), 60_000, 'a gpu pod running');
    const g = await k(['get', 'ds', 'gpu']);
    t.regex(normalizeTable(g.stdout), /^gpu  1  1  [01]  1  [01]  accelerator=tpu  AGE$/m);
    // The node stops qualifying: its pod goes.
    const u = await k(['label', 'node', node, 'accelerator-']);
    t.is(u.code, 0, u.stderr);
    await waitFor(async () => (await podsOf('gpu')).every((p) => p.split(' ')[3]), 60_000, 'the gpu pod leaving');
  });

  test.serial('deleting the DaemonSet takes its pods (garbage collection)', async (t) => {
    const d = await k(['delete', 'ds', 'logs']);
    t.is(d.code, 0, d.stderr);
    await waitFor(async () => (await podsOf('logs')).length === 0, 60_000, 'the logs pods gone');
    t.is((await k(['get', 'controllerrevisions', '-o', 'name'])).stdout.includes('logs-'), false, 'its revisions went too');
  });
}
