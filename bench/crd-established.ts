// Issue #15's CRD figure: how soon after a CustomResourceDefinition is Established its first custom
// object is accepted (target < 1 s). Two ways, each on a fresh definition per round:
//  - over the API as a controller would: POST the CRD, poll it (5 ms) until Established, then POST an
//    object, retrying a 404 every 5 ms; against a ConfigMap POST in the same run (one create's floor);
//  - as a user types it with the real kubectl: `kubectl apply -f crd.yaml`, `kubectl wait
//    --for=condition=Established`, `kubectl apply -f object.yaml` (kubectl rediscovers the new kind);
//    against `kubectl apply` of a ConfigMap in the same run.
// Only the API and the controllers run (no agent, proxy, DNS or ingress): a CRD needs nothing else.
//   npm run build && node --import tsx bench/crd-established.ts [rounds=10]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { R } from '../src/api/resources.js';
import type { CustomResourceDefinition } from '../src/api/types.js';
import { findKubectl } from '../test/helpers/kubectl.js';
import { median, percentile, startBenchServer, writeSection } from './lib.js';
import { timedKubectl } from './kubectl-run.js';

const ROUNDS = Number(process.argv[2] ?? 10);
const SLOT = 59;
const kubectl = findKubectl();
if (!kubectl) {
  console.error('kubectl is not installed: nothing to measure');
  process.exit(1);
}

function crd(plural: string, singular: string, kind: string): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.bench.example.com` },
    spec: {
      group: 'bench.example.com',
      scope: 'Namespaced',
      names: { plural, singular, kind, listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1, default: 1 }, color: { type: 'string', enum: ['red', 'blue'] } } },
                status: { type: 'object', properties: { ready: { type: 'boolean' } } },
              },
            },
          },
          subresources: { status: {} },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
        },
      ],
    },
  } as CustomResourceDefinition;
}

const established = (c: CustomResourceDefinition) => c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ?? false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = await startBenchServer(['--disable', 'agent,scheduler,proxy,dns,ingress', '--pod-cidr', `10.200.${SLOT}.0/24`, '--service-cidr', `10.201.${SLOT}.0/24`, '--cluster-dns', `10.201.${SLOT}.10`], { instance: `b${SLOT}` });
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-bench-kubectl-'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelite-bench-crd-'));
try {
  const c = server.client;
  // ---- over the API
  const toEstablished: number[] = [];
  const toAccepted: number[] = [];
  const retries: number[] = [];
  const cmCreate: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const plural = `apiwidgets${i}`;
    const t0 = performance.now();
    await c.create(R.customresourcedefinitions, crd(plural, `apiwidget${i}`, `ApiWidget${i}`));
    let tEst = NaN;
    for (;;) {
      const got = await c.get<CustomResourceDefinition>(R.customresourcedefinitions, undefined, `${plural}.bench.example.com`);
      if (established(got)) {
        tEst = performance.now();
        break;
      }
      if (performance.now() - t0 > 30_000) throw new Error(`${plural} not Established after 30 s`);
      await sleep(5);
    }
    let tries = 0;
    for (;;) {
      tries++;
      const r = await c.raw('POST', `/apis/bench.example.com/v1/namespaces/default/${plural}`, { apiVersion: 'bench.example.com/v1', kind: `ApiWidget${i}`, metadata: { name: 'first' }, spec: { size: 3 } });
      if (r.status === 201) break;
      if (r.status !== 404 || performance.now() - tEst > 30_000) throw new Error(`first object of ${plural}: ${r.status} ${r.body}`);
      await sleep(5);
    }
    const tAcc = performance.now();
    toEstablished.push(tEst - t0);
    toAccepted.push(tAcc - tEst);
    retries.push(tries - 1);
    const m0 = performance.now();
    await c.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `floor-${i}`, namespace: 'default' }, data: { a: 'b' } });
    cmCreate.push(performance.now() - m0);
  }

  // ---- with kubectl
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.homedir(), KUBECONFIG: server.kubeconfig, KUBECACHEDIR: cacheDir };
  const k = async (args: string[], input?: string) => {
    const r = await timedKubectl(kubectl, args, env, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  // Warm-up: discovery cached, as on a user's machine that has used kubectl before.
  await k(['get', 'pods']);
  const kApplyCrd: number[] = [];
  const kWait: number[] = [];
  const kApplyCr: number[] = [];
  const kApplyCm: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const plural = `widgets${i}`;
    const file = path.join(tmp, `${plural}.json`);
    fs.writeFileSync(file, JSON.stringify(crd(plural, `widget${i}`, `Widget${i}`)));
    kApplyCrd.push((await k(['apply', '-f', file])).ms);
    kWait.push((await k(['wait', '--for=condition=Established', `crd/${plural}.bench.example.com`, '--timeout=30s'])).ms);
    kApplyCr.push((await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'bench.example.com/v1', kind: `Widget${i}`, metadata: { name: 'first', namespace: 'default' }, spec: { size: 2 } }))).ms);
    kApplyCm.push((await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `kfloor-${i}`, namespace: 'default' }, data: { a: 'b' } }))).ms);
  }

  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const row = (label: string, v: number[], target = '—') => `| ${label} | ${ms(median(v))} | ${ms(percentile(v, 90))} | ${ms(Math.max(...v))} | ${target} |`;
  const worst = Math.max(...toAccepted);
  const kExtra = kApplyCr.map((v, i) => v - kApplyCm[i]);
  const load = os.loadavg()[0];
  const body = `${ROUNDS} rounds, a fresh definition each (structural schema with a default, an enum and a bound; status subresource; a printer column).
\`kubelite server\` (\`bin/kubelite\`) runs the API and the controllers only; the 1-minute load average was ${load.toFixed(1)} at the end.

Over the API (a controller's view; polls every 5 ms):

| figure | median | p90 | worst | target |
|---|---|---|---|---|
${row('CRD POST -> Established (observed by GET)', toEstablished)}
${row('**Established -> first custom object accepted (201)**', toAccepted, '< 1 s')}
${row('a ConfigMap POST in the same run (one create\'s floor)', cmCreate)}

First-object attempts refused with 404 before one was accepted: ${retries.reduce((a, b) => a + b, 0)} in ${ROUNDS} rounds.

With the real kubectl (\`${kubectl}\`, v1.32; wall time of each command, discovery cached before the first round):

| command | median | p90 | worst | target |
|---|---|---|---|---|
${row('`kubectl apply -f crd.json`', kApplyCrd)}
${row('`kubectl wait --for=condition=Established crd/...`', kWait)}
${row('**`kubectl apply` of the first custom object** (kubectl rediscovers the new kind)', kApplyCr, '< 1 s')}
${row('`kubectl apply` of a ConfigMap in the same run (baseline)', kApplyCm)}

The first custom object is accepted **${ms(median(toAccepted))}** (worst ${ms(worst)}) after its definition is Established (target < 1 s: ${worst < 1000 ? 'met' : 'missed'});
with kubectl, applying it takes ${(median(kApplyCr) / median(kApplyCm)).toFixed(2)}x a ConfigMap's apply (+${ms(median(kExtra))}: kubectl's discovery of the new group).`;
  writeSection('crd-established', 'CRD Established -> first custom object accepted (issue #15)', `npm run build && node --import tsx bench/crd-established.ts ${ROUNDS}`, body);
} finally {
  await server.stop();
  fs.rmSync(server.dataDir, { recursive: true, force: true });
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}
