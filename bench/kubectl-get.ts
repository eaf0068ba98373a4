// Issue #6's kubectl figure: wall time of the real `kubectl get pods` on a namespace with 1,000 Pods,
// against the same command on an empty namespace (the fixed cost: process start, the version check of
// the kubectl dispatcher, cached discovery, one round trip). Target: < 2x. The Pods are bound to a node
// that does not exist and only the API runs, so nothing changes them while we measure.
//   npm run build && node --import tsx bench/kubectl-get.ts [runs]

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { R } from '../src/api/resources.js';
import type { Pod } from '../src/api/types.js';
import { findKubectl } from '../test/helpers/kubectl.js';
import { median, percentile, startBenchServer, writeSection } from './lib.js';

const RUNS = Number(process.argv[2] ?? 11);
const PODS = 1000;
const CONCURRENCY = 32;

const kubectl = findKubectl();
if (!kubectl) {
  console.error('kubectl is not installed: nothing to measure');
  process.exit(1);
}

function pod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${String(i).padStart(4, '0')}`, namespace: 'bench', labels: { app: 'web', shard: String(i % 10) } },
    spec: { nodeName: 'nowhere', containers: [{ name: 'web', image: 'kubelite/echo:1', ports: [{ containerPort: 8080 }] }] },
  };
}

/**
 * One kubectl run: wall time, and its CPU time (user + system, from bash's `times`, in ms), which other
 * load on the machine inflates far less than wall time.
 */
function run(args: string[], env: Record<string, string>): Promise<{ ms: number; cpuMs: number; code: number; bytes: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('bash', ['-c', '"$@"; rc=$?; times >&2; exit $rc', 'bash', kubectl!, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => (bytes += d.length));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      // `times` prints the shell's own user/sys line, then its children's: "0m0.041s 0m0.012s".
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(err);
      const cpuMs = m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN;
      resolve({ ms, cpuMs, code: code ?? -1, bytes });
    });
  });
}

const server = await startBenchServer(['--disable', 'agent,scheduler,controllers,proxy,dns,ingress'], { instance: 'b41' });
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-bench-kubectl-'));
try {
  for (const ns of ['bench', 'empty']) await server.client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < PODS) await server.client.create(R.pods, pod(next++));
  }));

  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), KUBECONFIG: server.kubeconfig, KUBECACHEDIR: cacheDir };
  const cases: { label: string; args: string[] }[] = [
    { label: 'empty namespace', args: ['get', 'pods', '-n', 'empty'] },
    { label: `${PODS} Pods`, args: ['get', 'pods', '-n', 'bench'] },
    { label: `${PODS} Pods, -o wide`, args: ['get', 'pods', '-n', 'bench', '-o', 'wide'] },
    { label: `${PODS} Pods, -o name`, args: ['get', 'pods', '-n', 'bench', '-o', 'name'] },
    { label: `${PODS} Pods, -o json`, args: ['get', 'pods', '-n', 'bench', '-o', 'json'] },
  ];
  // Warm-up: fills the discovery cache and the server's code paths.
  for (const c of cases) await run(c.args, env);
  const results = new Map<string, { ms: number[]; cpu: number[]; bytes: number }>();
  // Interleaved, so drift (other load on the machine) hits every case alike.
  for (let i = 0; i < RUNS; i++) {
    for (const c of cases) {
      const r = await run(c.args, env);
      if (r.code !== 0) throw new Error(`kubectl ${c.args.join(' ')} exited ${r.code}`);
      const e = results.get(c.label) ?? { ms: [], cpu: [], bytes: r.bytes };
      e.ms.push(r.ms);
      e.cpu.push(r.cpuMs);
      results.set(c.label, e);
    }
  }

  // The server's part alone: the Table request kubectl makes, timed over HTTPS from here.
  const tableMs = async (ns: string) => {
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = await server.client.raw('GET', `/api/v1/namespaces/${ns}/pods?limit=500`, undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      if (r.status !== 200) throw new Error(`table request: ${r.status}`);
      samples.push(performance.now() - t0);
    }
    return median(samples);
  };
  const serverEmpty = await tableMs('empty');
  const serverFull = await tableMs('bench');

  const base = median(results.get('empty namespace')!.ms);
  const baseCpu = median(results.get('empty namespace')!.cpu);
  const rows = [...results].map(([label, { ms, cpu, bytes }]) => {
    const m = median(ms);
    const c = median(cpu);
    return `| \`kubectl ${cases.find((x) => x.label === label)!.args.join(' ')}\` | ${label} | ${m.toFixed(0)} ms | ${percentile(ms, 90).toFixed(0)} ms | ${(m / base).toFixed(2)}x | ${c.toFixed(0)} ms | ${(c / baseCpu).toFixed(2)}x | ${(bytes / 1024).toFixed(0)} KiB |`;
  });
  const ratio = median(results.get(`${PODS} Pods`)!.ms) / base;
  const cpuRatio = median(results.get(`${PODS} Pods`)!.cpu) / baseCpu;
  const load = os.loadavg()[0];
  const body = `Wall time of the real kubectl (\`${kubectl}\`, v1.32 through its version dispatcher) against \`kubelite server\` with only the API running;
median and p90 of ${RUNS} interleaved runs after a warm-up (discovery cached).

CPU is kubectl's user+system time (bash \`times\`), which load from other processes inflates far less than wall time;
the 1-minute load average was ${load.toFixed(1)} at the end of the run.

| command | objects | wall (median) | wall (p90) | wall vs empty | CPU (median) | CPU vs empty | output |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

\`kubectl get pods\` with ${PODS} Pods takes **${ratio.toFixed(2)}x** the wall time (${cpuRatio.toFixed(2)}x the CPU time) of the same command on an empty namespace (target < 2x).
The server's share, timed from Node over HTTPS: the Table for ${PODS} Pods in ${serverFull.toFixed(1)} ms, for none in ${serverEmpty.toFixed(1)} ms;
the rest is kubectl itself (starting the dispatcher and the 1.32 binary, decoding and printing).`;
  writeSection('kubectl-get', `kubectl get pods with ${PODS} Pods`, `npm run build && node --import tsx bench/kubectl-get.ts ${RUNS}`, body);
} finally {
  await server.stop();
  fs.rmSync(server.dataDir, { recursive: true, force: true });
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
