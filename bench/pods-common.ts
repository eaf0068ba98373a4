// Shared by the Pod benchmarks: a real server (the built binary) with the agent, scheduler and
// controllers on its own instance and address ranges, a Deployment of kubelite/echo, waiting for
// readiness through a watch, and cleanup of everything the instance made.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import Dockerode from 'dockerode';
import type { Deployment, Pod } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { isStatusError } from '../src/api/errors.js';
import { LABELS } from '../src/agent/labels.js';
import { startBenchServer, type BenchServer } from './lib.js';
import { cleanupInstance } from '../src/main/cleanup.js';
import { hostNames } from '../src/config.js';

export const docker = new Dockerode();

/** Instance `b<slot>` with the address plan of test/helpers/server.ts' slots. The Pod benches take 50-52 (b40-b49 are other benches'): two servers of one instance would fight over its containers. */
export function benchPlan(slot: number, opts: { allComponents?: boolean } = {}) {
  return {
    instance: `b${slot}`,
    args: [
      '--pod-cidr', `10.200.${slot}.0/24`, '--service-cidr', `10.201.${slot}.0/24`, '--cluster-dns', `10.201.${slot}.10`, '--service-node-port-range', `${20000 + slot * 100}-${20000 + slot * 100 + 99}`,
      // Every component on (the default configuration): only the addresses and ports are the instance's own.
      ...(opts.allComponents ? ['--lb-pool', `10.202.${slot}.0/24`, '--ingress-http-port', String(18000 + slot * 2), '--ingress-https-port', String(18000 + slot * 2 + 1)] : ['--disable', 'proxy,dns,ingress']),
    ],
  };
}

export async function startPodBench(slot: number, env: Record<string, string> = {}, opts: { allComponents?: boolean } = {}): Promise<BenchServer & { instance: string }> {
  const plan = benchPlan(slot, opts);
  await wipeInstance(plan.instance);
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  const s = await startBenchServer(plan.args, { instance: plan.instance });
  return Object.assign(s, { instance: plan.instance });
}

export async function wipeInstance(instance: string): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${instance}`] } });
  // App containers before the sandboxes they joined, a few at a time: a storm of parallel force-removals
  // is how Docker 20.10 leaks a network's endpoint count (the network then refuses to go).
  const ordered = [...list.filter((c) => c.Labels[LABELS.role] !== 'infra'), ...list.filter((c) => c.Labels[LABELS.role] === 'infra')];
  for (let i = 0; i < ordered.length; i += 8) {
    await Promise.all(ordered.slice(i, i + 8).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  const nets = await docker.listNetworks({ filters: { label: [`${LABELS.instance}=${instance}`] } });
  await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
}

export async function finish(server: (BenchServer & { instance: string }) | undefined): Promise<void> {
  if (!server) return;
  await server.stop().catch(() => undefined);
  await wipeInstance(server.instance);
  // With every component on, the proxy left its chains and service device: `kubelite cleanup`'s way.
  const slot = Number(server.instance.slice(1));
  await cleanupInstance({ names: hostNames({ instance: server.instance }), serviceCIDR: `10.201.${slot}.0/24`, lbPool: `10.202.${slot}.0/24`, dataDir: server.dataDir }).catch(() => undefined);
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}

export function deployment(name: string, replicas: number, probe = true): Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [{ name: 'app', image: 'kubelite/echo:1', ports: [{ containerPort: 8080 }], ...(probe ? { readinessProbe: { httpGet: { path: '/ready', port: 8080 } } } : {}) }],
        },
      },
    },
  };
}

export function podReady(p: Pod): boolean {
  return !p.metadata.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

/** Resolves with performance.now() when `pred` holds for the pods with label app=<app> (checked on every watch event). */
export function whenPods(server: BenchServer, app: string, pred: (pods: Map<string, Pod>) => boolean, timeoutMs = 120_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const pods = new Map<string, Pod>();
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      w.stop();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for pods of ${app}`));
    }, timeoutMs);
    const check = () => {
      if (!done && pred(pods)) {
        done = true;
        clearTimeout(timer);
        w.stop();
        resolve(performance.now());
      }
    };
    const w = server.client.watch<Pod>(R.pods, { namespace: 'default', labelSelector: `app=${app}` }, {
      onEvent: (ev) => {
        if (ev.type === 'DELETED') pods.delete(ev.object.metadata.name!);
        else if (ev.type === 'ADDED' || ev.type === 'MODIFIED') pods.set(ev.object.metadata.name!, ev.object);
        check();
      },
      onClose: (err) => {
        if (!done) reject(err ?? new Error('watch closed'));
      },
    });
  });
}

export async function deleteDeployment(server: BenchServer, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await server.client.delete(R.deployments, 'default', name, { propagationPolicy: 'Foreground' });
      break;
    } catch (err) {
      if (isStatusError(err, 'NotFound')) break;
      // The controller may write the Deployment's status in between: try again, as kubectl's user would.
      if (isStatusError(err, 'Conflict') && attempt < 5) continue;
      throw err;
    }
  }
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const pods = await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: `app=${name}` });
    if (pods.items.length === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`pods of ${name} still there after 2 minutes`);
}

/** Runs a command; resolves with its exit code (output discarded unless it fails). */
export function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(0) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.slice(0, 500)}`))));
  });
}

export const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
