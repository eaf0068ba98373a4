// Shared by the agent's integration tests: Pods bound straight to the test server's node (no
// scheduler needed), waiting on their status, and our logs/exec CLI as a separate process.

import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Container, Event, KObject, Node, Pod, PodSpec } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { isStatusError } from '../../src/api/errors.js';
import { LABELS } from '../../src/agent/labels.js';
import { ROOT, waitFor, type TestServer } from '../helpers/server.js';
import { dockerClient } from '../helpers/docker.js';

export async function nodeName(server: TestServer): Promise<string> {
  const nodes = await waitFor(async () => {
    const l = await server.client.list<Node>(R.nodes);
    return l.items.length ? l.items : undefined;
  }, 30_000, 'the agent to register its node');
  return nodes![0].metadata.name!;
}

export function podManifest(name: string, node: string, spec: Partial<PodSpec> & { containers?: Container[] }, labels?: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { nodeName: node, terminationGracePeriodSeconds: 5, containers: [{ name: 'app', image: 'kubelite/echo:1' }], ...spec },
  };
}

export async function createPod(server: TestServer, pod: Pod): Promise<Pod> {
  return server.client.create<Pod>(R.pods, pod);
}

export async function getPod(server: TestServer, name: string): Promise<Pod | undefined> {
  try {
    return await server.client.get<Pod>(R.pods, 'default', name);
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  }
}

export async function waitPod(server: TestServer, name: string, pred: (p: Pod) => boolean, what: string, timeoutMs = 30_000): Promise<Pod> {
  const found = await waitFor(
    async () => {
      const p = await getPod(server, name);
      return p && pred(p) ? p : undefined;
    },
    timeoutMs,
    `pod ${name}: ${what}`,
    50,
  );
  return found!;
}

export function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function cstatus(p: Pod, name = 'app') {
  return p.status?.containerStatuses?.find((c) => c.name === name);
}

export function dockerId(p: Pod, name = 'app'): string {
  return (cstatus(p, name)?.containerID ?? '').replace('docker://', '');
}

/** Our containers of a pod (all states), from Docker. */
export async function podContainers(instance: string, podName: string) {
  return dockerClient().listContainers({ all: true, filters: { label: [`${LABELS.instance}=${instance}`, `${LABELS.podName}=${podName}`] } });
}

export async function events(server: TestServer, name: string): Promise<Event[]> {
  const l = await server.client.list<Event & KObject>(R.events, { namespace: 'default', fieldSelector: `involvedObject.name=${name}` });
  return l.items;
}

/** Our `logs`/`exec` commands as a separate process: cli/main.ts once it registers them, else a minimal entry. */
export function cli(server: TestServer, args: string[], input?: string, timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = fs.readFileSync(path.join(ROOT, 'cli/main.ts'), 'utf8');
  if (main.includes('registerLogs') && main.includes('registerExec')) return server.cli(args, input);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/integration/pods-cli-entry.ts'), '--kubeconfig', server.kubeconfig, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
