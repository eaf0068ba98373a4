// Issue 17 (hardening) on Pods that really run: a `kubelite server` (slot 16) with its agent, scheduler
// and controllers on the local Docker engine. kubectl attach and `kubectl run -i --rm`, a plain POST to
// pods/NAME/exec with the agent running, and a scale-down of many Pods. Needs root and Docker; every
// container and network of instance t16 is removed afterwards.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { R } from '../../src/api/resources.js';
import type { Deployment, Pod } from '../../src/api/types.js';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { dockerAvailable } from '../helpers/docker.js';
import { findKubectl, kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 16;
const NS = 'hard';
let server: TestServer | undefined;
let k: Kubectl;
let tmp: string;

const srv = () => {
  if (!server) throw new Error('no server');
  return server;
};

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'proxy,dns,ingress'] });
  k = kubectlFor(server.kubeconfig, findKubectl()!);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-hardpods-'));
  const ns = await k(['create', 'namespace', NS]);
  if (ns.code !== 0) throw new Error(ns.stderr);
});

test.after.always(async () => {
  await tearDownServer(server, SLOT);
  k?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function podGone(name: string): Promise<boolean> {
  try {
    await srv().client.get(R.pods, NS, name);
    return false;
  } catch {
    return true;
  }
}

test.serial('kubectl run -i --rm --restart=Never prints the output and removes the Pod', async (t) => {
  const r = await k(['run', '-i', '--rm', '--restart=Never', '--image=kubelite/echo:1', '-n', NS, 'hi', '--', 'echo', 'hi'], { timeoutMs: 90_000 });
  t.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stdout, /^hi$/m);
  t.regex(r.stdout, /pod "hi" deleted/);
  t.notRegex(r.stderr, /no upgrade handler|couldn't attach|error/i);
  await waitFor(() => podGone('hi'), 30_000, 'pod hi gone');
});

test.serial('kubectl run -i --rm attaches stdin: what is piped in comes back out', async (t) => {
  const r = await k(['run', '-i', '--rm', '--restart=Never', '--image=kubelite/echo:1', '-n', NS, 'cat', '--', 'sh', '-c', 'sleep 1; cat; echo done'], { input: 'line one\nline two\n', timeoutMs: 90_000 });
  t.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
  t.regex(r.stdout, /line one\nline two\ndone/);
  t.notRegex(r.stderr, /no upgrade handler|couldn't attach|falling back/i);
  await waitFor(() => podGone('cat'), 30_000, 'pod cat gone');
});

test.serial('kubectl attach to a running Pod streams its output', async (t) => {
  const pod = `apiVersion: v1
kind: Pod
metadata: {name: ticker, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: kubelite/echo:1
    command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.3; done"]
`;
  fs.writeFileSync(path.join(tmp, 'ticker.yaml'), pod);
  t.is((await k(['apply', '-f', path.join(tmp, 'ticker.yaml')])).code, 0);
  await waitFor(async () => (await srv().client.get<Pod>(R.pods, NS, 'ticker')).status?.phase === 'Running', 60_000, 'ticker running');
  const child = k.spawn(['attach', 'ticker', '-n', NS]);
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  await waitFor(() => (out.match(/tick-\d+/g) ?? []).length >= 2, 20_000, `ticks through attach (stderr: ${err})`);
  t.notRegex(err, /no upgrade handler|error/i);
  child.kill('SIGINT');
  await srv().client.delete(R.pods, NS, 'ticker', { gracePeriodSeconds: 0 });
});

test.serial('a plain POST to pods/NAME/exec is a 400 "Upgrade request required" with the agent running; 404 for a missing Pod', async (t) => {
  const missing = await srv().client.raw('POST', `/api/v1/namespaces/${NS}/pods/nosuch/exec?command=ls&stdout=true`);
  t.is(missing.status, 404, missing.body);
  await srv().client.create(R.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'plain', namespace: NS }, spec: { containers: [{ name: 'app', image: 'kubelite/echo:1' }] } } as Pod);
  const r = await srv().client.raw('POST', `/api/v1/namespaces/${NS}/pods/plain/exec?command=ls&stdout=true`);
  t.is(r.status, 400, r.body);
  t.is(JSON.parse(r.body).message, 'Upgrade request required');
  await srv().client.delete(R.pods, NS, 'plain', { gracePeriodSeconds: 0 });
});
