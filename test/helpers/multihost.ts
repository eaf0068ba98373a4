// A kubelite cluster of several node containers for the multi-host tests: a server and agents, each its
// own Docker host (its own engine), on one Docker network, routed from this machine. Created with the
// real `kubelite cluster create --agents N` from the node image built from these sources (a tag of the
// tests' own, so another worktree's image is never replaced), always deleted afterwards.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import YAML from 'yaml';
import { deleteCluster } from '../../src/cluster/delete.js';
import { HttpClient } from '../../src/client/http-client.js';
import { loadConnection } from '../../src/client/kubeconfig.js';
import { buildNodeImage } from '../../src/images/node-image.js';
import { exec } from '../../src/util/exec.js';
import { execIn } from './docker.js';
import { findKubectl, kubectl132Binary, kubectlFor, type Kubectl } from './kubectl.js';
import { ROOT } from './server.js';

export const NODE_IMAGE_TAG = 'mh-test';
export const NODE_IMAGE = `kubelite/cluster-node:${NODE_IMAGE_TAG}`;

export interface TestCluster {
  name: string;
  block: number;
  bridge: string;
  clustersDir: string;
  kubeconfig: string;
  client: HttpClient;
  kubectl: Kubectl;
  server: string;
  agents: string[];
  nodes: string[];
  address(node: string): string;
  /** `kubelite ARGS` with this cluster's clusters dir. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs a command inside a node container. */
  inNode(node: string, cmd: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  destroy(): Promise<void>;
}

export const docker = new Dockerode();

export function cli(clustersDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dist = path.join(ROOT, 'dist/cli/main.js');
  const bin = process.env.KUBELITE_TEST_DIST === '1' && fs.existsSync(dist) ? [dist] : ['--import', 'tsx', path.join(ROOT, 'cli/main.ts')];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...bin, ...args], { cwd: ROOT, env: { ...process.env, KUBELITE_CLUSTERS_DIR: clustersDir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function buildTestNodeImage(): Promise<void> {
  await buildNodeImage({ version: NODE_IMAGE_TAG });
}

/** `ip route get` says the packet goes out through our bridge (or is for this host): never the uplink. */
export async function assertRouted(ip: string, bridge: string): Promise<void> {
  const r = await exec('ip', ['-j', 'route', 'get', ip]);
  const [route] = JSON.parse(r.stdout) as { dev?: string; type?: string }[];
  if (route?.type !== 'local' && route?.dev !== bridge) throw new Error(`${ip} would leave through ${route?.dev}: refusing to send test traffic there`);
}

export async function httpGet(ip: string, port: number, bridge: string, timeoutMs = 3000, localPort?: number): Promise<string> {
  await assertRouted(ip, bridge);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: ip, port, path: '/', agent: false, timeout: timeoutMs, localPort }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error(`${ip}:${port}: no answer`)));
    req.on('error', reject);
  });
}

/**
 * Where a node's NAT sent the TCP connections to its `port`: client source port -> the address the
 * connection was DNATed to (the reply's source), from conntrack in the node container's network namespace.
 */
export async function natDestinations(node: string, port: number): Promise<Map<number, string>> {
  const pid = (await docker.getContainer(node).inspect()).State.Pid;
  const r = await exec('nsenter', ['-t', String(pid), '-n', 'conntrack', '-L', '-p', 'tcp', '--orig-port-dst', String(port)]);
  if (r.code !== 0) throw new Error(`conntrack in ${node}: ${r.stderr.trim()}`);
  const out = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    // original direction first (src dst sport dport), then the reply's (its src is the DNAT target)
    const m = /src=\S+ dst=\S+ sport=(\d+) dport=\d+ (?:\[UNREPLIED\] )?src=(\S+)/.exec(line);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

/** `pod=NAME ip=IP ...` (the echo image's answer) -> NAME. */
export function podOf(answer: string): string {
  return /pod=(\S+)/.exec(answer)?.[1] ?? `?${answer.slice(0, 60)}`;
}

export async function createTestCluster(o: { name: string; block: number; agents: number; serverArgs?: string[] }): Promise<TestCluster> {
  const clustersDir = fs.mkdtempSync(path.join(os.tmpdir(), `kubelite-${o.name}-`));
  const b = `10.${o.block}`;
  await deleteCluster({ name: o.name, docker, clustersDir }).catch(() => undefined);
  const r = await cli(clustersDir, [
    'cluster', 'create', o.name, '--image', NODE_IMAGE, '--agents', String(o.agents),
    '--pod-cidr', `${b}.0.0/17`, '--service-cidr', `${b}.128.0/18`, '--lb-pool', `${b}.192.0/24`, '--node-cidr', `${b}.255.0/24`,
    ...(o.serverArgs ?? []).map((a) => `--server-arg=${a}`),
  ]);
  if (r.code !== 0) {
    await deleteCluster({ name: o.name, docker, clustersDir }).catch(() => undefined);
    throw new Error(`cluster create ${o.name} failed (${r.code}): ${r.stderr}\n${r.stdout}`);
  }
  const kubeconfig = path.join(clustersDir, o.name, 'kubeconfig');
  const client = new HttpClient(loadConnection(kubeconfig));
  const kubectl = kubectlFor(kubeconfig, kubectl132Binary() ?? findKubectl()!);
  const server = `kubelite-${o.name}-server-0`;
  const agents = Array.from({ length: o.agents }, (_, i) => `kubelite-${o.name}-agent-${i}`);
  const address = (node: string) => {
    const m = /-(server|agent)-(\d+)$/.exec(node)!;
    return `${b}.255.${m[1] === 'server' ? 2 + Number(m[2]) : 10 + Number(m[2])}`;
  };
  return {
    name: o.name,
    block: o.block,
    bridge: `klc-${o.name}`,
    clustersDir,
    kubeconfig,
    client,
    kubectl,
    server,
    agents,
    nodes: [server, ...agents],
    address,
    cli: (args) => cli(clustersDir, args),
    inNode: (node, cmd) => execIn(node, cmd, docker),
    async destroy() {
      client.close();
      kubectl.cleanup();
      await deleteCluster({ name: o.name, docker, clustersDir }).catch(() => undefined);
      fs.rmSync(clustersDir, { recursive: true, force: true });
    },
  };
}

/** The admin token and CA of a cluster's kubeconfig. */
export function credentials(kubeconfig: string): { token: string; caPem: string } {
  const doc = YAML.parse(fs.readFileSync(kubeconfig, 'utf8')) as { users: { user: { token: string } }[]; clusters: { cluster: Record<string, string> }[] };
  return { token: doc.users[0].user.token, caPem: Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8') };
}

/** The PID of the kubelite (node) process in a node container. */
export async function kubelitePid(node: string): Promise<string> {
  const r = await execIn(node, ['ps', '-eo', 'pid=,comm='], docker);
  const line = r.stdout.split('\n').find((l) => l.trim().endsWith(' node'));
  if (!line) throw new Error(`no kubelite process in ${node}: ${r.stdout}`);
  return line.trim().split(/\s+/)[0];
}

/** Polls `fn` until it returns a truthy value (returned), or fails naming `what`. */
export async function until<T>(fn: () => Promise<T | undefined | false | null | '' | 0> | T | undefined, timeoutMs: number, what: string, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
