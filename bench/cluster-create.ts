// kubelite inside Docker (issue #11): the node image build (cold with debootstrap, after a kubelite
// change with the base cached, unchanged) and `kubelite cluster create` until a Service answers through
// its VIP from the host, side by side in the same run with the floor: a raw `docker run` of the node
// image until its inner dockerd answers. Bench slot 52: cluster b52 in 10.236.0.0/16, the floor's
// network 10.237.255.0/24.
//   npm run build && /work/bin/suite-lock node --import tsx bench/cluster-create.ts [runs] [--no-cold]

import Dockerode from 'dockerode';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { byKind } from '../src/api/resources.js';
import type { KObject, Service } from '../src/api/types.js';
import { deleteCluster } from '../src/cluster/delete.js';
import { HttpClient } from '../src/client/http-client.js';
import { loadConnection } from '../src/client/kubeconfig.js';
import { buildNodeImage } from '../src/images/node-image.js';
import { baseHash, baseImageRef, nodeImageRef } from '../src/images/node-image-plan.js';
import { exec } from '../src/util/exec.js';
import { KUBELITE_VERSION } from '../src/version.js';
import { median, ROOT, writeSection } from './lib.js';

const args = process.argv.slice(2);
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
const COLD = !args.includes('--no-cold');
const NAME = 'b52';
const CIDRS = ['--pod-cidr', '10.236.0.0/17', '--service-cidr', '10.236.128.0/18', '--lb-pool', '10.236.192.0/24', '--node-cidr', '10.236.255.0/24'];
const FLOOR_NET = 'kl-b52-floor';
const FLOOR_SUBNET = '10.237.255.0/24';
const FLOOR_IP = '10.237.255.2';
const BENCH_LABEL = 'io.kubelite.bench';
const IMAGE = nodeImageRef(KUBELITE_VERSION);
const docker = new Dockerode();
const clustersDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-b52-'));
const loadBefore = os.loadavg()[0];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function routeDev(ip: string): Promise<string | undefined> {
  const r = await exec('ip', ['-j', 'route', 'get', ip]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { dev?: string }[])[0]?.dev : undefined;
}

function httpGet(ip: string, port: number, p = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: ip, port, path: p, agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = path.join(ROOT, 'bin/kubelite');
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  return new Promise((resolve) => {
    const child = spawn(bin, argv, { env: { ...process.env, KUBELITE_CLUSTERS_DIR: clustersDir, KUBELITE_TIMINGS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function seed(): KObject[] {
  const out: KObject[] = [];
  for (const f of ['01-my-backend.yaml', '02-service-clusterip.yaml']) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'))) {
      const o = doc.toJS() as KObject | null;
      if (o) out.push({ ...o, metadata: { ...o.metadata, namespace: 'default' } });
    }
  }
  return out;
}

interface CreateRun {
  created: number;
  answered: number;
  timings: Record<string, number>;
}

/** `kubelite cluster create` (the CLI, as users run it), then the seed Deployment + Service, until the VIP answers. */
async function createRun(): Promise<CreateRun> {
  const t0 = performance.now();
  const r = await cli(['cluster', 'create', NAME, ...CIDRS, '--server-arg=--upstream-dns=127.0.0.1:1']);
  if (r.code !== 0) throw new Error(`cluster create failed: ${r.stderr}`);
  const created = performance.now() - t0;
  const timings = JSON.parse(/^timings (.*)$/m.exec(r.stderr)?.[1] ?? '{}') as Record<string, number>;
  const client = new HttpClient(loadConnection(path.join(clustersDir, NAME, 'kubeconfig')));
  let vip = '';
  try {
    for (const o of seed()) {
      const res = byKind(o.apiVersion, o.kind);
      if (!res) throw new Error(`unknown kind ${o.kind}`);
      const c = await client.create(res, o);
      if (o.kind === 'Service') vip = (c as Service).spec.clusterIP!;
    }
  } finally {
    client.close();
  }
  if ((await routeDev(vip)) !== `klc-${NAME}`) throw new Error(`${vip} is not routed to the cluster bridge: not sending there`);
  await until(async () => ((await httpGet(vip, 80)).body.startsWith('pod=my-backend-') ? true : undefined), 120_000, 'the VIP');
  return { created, answered: performance.now() - t0, timings };
}

/** The floor: `docker run` of the node image (dockerd only, its API on TCP) until that dockerd answers. */
async function floorRun(security: Dockerode.HostConfig): Promise<number> {
  const t0 = performance.now();
  const c = await docker.createContainer({
    name: 'kl-b52-floor',
    Image: IMAGE,
    Cmd: ['sleep', 'infinity'],
    Env: ['KUBELITE_DOCKER_TCP=2375'],
    Labels: { [BENCH_LABEL]: NAME },
    HostConfig: { ...security, Mounts: [{ Type: 'volume', Source: 'kl-b52-floor-docker', Target: '/var/lib/docker' }], NetworkMode: FLOOR_NET },
    NetworkingConfig: { EndpointsConfig: { [FLOOR_NET]: { IPAMConfig: { IPv4Address: FLOOR_IP } } } },
  });
  await c.start();
  if ((await routeDev(FLOOR_IP)) !== 'klc-b52floor') throw new Error('the floor container is not on its bridge');
  await until(async () => ((await httpGet(FLOOR_IP, 2375, '/_ping')).status === 200 ? true : undefined), 60_000, 'the floor dockerd');
  const ms = performance.now() - t0;
  await c.remove({ force: true, v: true });
  await docker.getVolume('kl-b52-floor-docker').remove().catch(() => undefined);
  return ms;
}

async function cleanup(): Promise<void> {
  await deleteCluster({ name: NAME, docker, clustersDir }).catch(() => undefined);
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=${NAME}`] } })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  await docker.getVolume('kl-b52-floor-docker').remove().catch(() => undefined);
  for (const n of await docker.listNetworks({ filters: { label: [`${BENCH_LABEL}=${NAME}`] } })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
}

try {
  await cleanup();
  // ---- the image
  const builds: string[] = [];
  if (COLD) {
    await docker.getImage(IMAGE).remove({ force: true }).catch(() => undefined);
    await docker.getImage(baseImageRef(baseHash())).remove({ force: true }).catch(() => undefined);
    const cold = await buildNodeImage({ docker });
    builds.push(`| cold: debootstrap of the base, then kubelite's layer | **${cold.seconds.toFixed(1)} s** | ${(cold.sizeBytes / 1e6).toFixed(0)} MB |`);
  }
  const layer = await buildNodeImage({ docker, force: true });
  builds.push(`| after a kubelite change (base cached: compile, layer, commit) | **${layer.seconds.toFixed(1)} s** | ${(layer.sizeBytes / 1e6).toFixed(0)} MB |`);
  const unchanged = await buildNodeImage({ docker });
  if (unchanged.built) throw new Error('an unchanged rebuild built something');
  builds.push(`| unchanged (hash check only) | **${unchanged.seconds.toFixed(2)} s** | — |`);

  // ---- the floor's network, and which rights node containers get here (what cluster create detected)
  await docker.createNetwork({ Name: FLOOR_NET, Driver: 'bridge', Labels: { [BENCH_LABEL]: NAME }, Options: { 'com.docker.network.bridge.name': 'klc-b52floor' }, IPAM: { Config: [{ Subnet: FLOOR_SUBNET }] } });
  const creates: CreateRun[] = [];
  const floors: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    creates.push(await createRun());
    await deleteCluster({ name: NAME, docker, clustersDir });
    const engine = JSON.parse(fs.readFileSync(path.join(clustersDir, 'engine.json'), 'utf8')) as Record<string, { mode: string }>;
    const mode = Object.values(engine)[0]?.mode;
    const { securityHostConfig } = await import('../src/cluster/node-spec.js');
    floors.push(await floorRun(securityHostConfig(mode === 'privileged' ? 'privileged' : 'capabilities')));
  }
  const med = median(creates.map((c) => c.answered));
  const floor = median(floors);
  const medianRun = creates.map((c, i) => [c.answered, i] as const).sort((a, b) => a[0] - b[0])[Math.floor(creates.length / 2)][1];
  const step = (c: CreateRun, k: string) => (c.timings[k] !== undefined ? `${c.timings[k].toFixed(2)}` : '-');
  writeSection(
    'cluster-create',
    'kubelite inside Docker: node image build, and `kubelite cluster create` until a Service answers (issue #11)',
    `npm run build && /work/bin/suite-lock node --import tsx bench/cluster-create.ts ${RUNS}${COLD ? '' : ' --no-cold'}`,
    [
      '**Node image** `kubelite/cluster-node` (debootstrap of Debian bookworm minbase + docker.io, iptables, nftables,',
      'conntrack, iproute2, haproxy, busybox-static, tini, curl; the host\'s node binary, kubelite compiled from its',
      'sources, its production node_modules, kubelite/pause and kubelite/echo saved for the inner engine):',
      '',
      '| build | time | image |',
      '|---|---|---|',
      ...builds,
      '',
      '**Cluster**: from running `kubelite cluster create` (the CLI, the image already built) until the seed example\'s',
      'my-backend Service (examples/01 + 02, created through the API as soon as create returns) answers through its',
      'ClusterIP from the host; each run a fresh cluster, deleted after it. Beside it in the same run, the floor:',
      '`docker run` of the node image with only its inner dockerd (no kubelite) until that dockerd answers on TCP.',
      '',
      '| run | floor: docker run until the inner dockerd answers | create returns (Node Ready, kubeconfig written) | Service answers through its VIP | ratio to the floor |',
      '|---|---|---|---|---|',
      ...creates.map((c, i) => `| ${i + 1} | ${s(floors[i])} | ${s(c.created)} | **${s(c.answered)}** | ${(c.answered / floors[i]).toFixed(1)}x |`),
      '',
      `Median: **${s(med)}** to a Service answering through its VIP (target < 5 s: ${med < 5000 ? 'met' : 'missed'}; kind 33 s, k3d 20 s,`,
      `k3s in testcontainers 15.7 s, as reported by their users), ${(med / floor).toFixed(1)}x the floor of ${s(floor)}.`,
      '',
      `Inside \`cluster create\` (seconds from its start, run ${medianRun + 1}, the median): ` +
        ['checks', 'image', 'plan', 'started', 'routes', 'api', 'ready'].map((k) => `${k} ${step(creates[medianRun], k)}`).join(', ') +
        ' (`image`: the node image\'s hash check; `started`: network, volume and container created and started; `api`: the node\'s /readyz answers; `ready`: its Node is Ready).',
      '',
      `Host load average (1 min) ${loadBefore.toFixed(1)} at the start and ${os.loadavg()[0].toFixed(1)} at the end: other helpers' work shares the 2 cores, so these figures are upper bounds.`,
    ].join('\n'),
  );
} finally {
  await cleanup();
  fs.rmSync(clustersDir, { recursive: true, force: true });
}
