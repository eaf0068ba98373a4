// (d) Zero failed requests during a rolling update: clients open a new connection per request to a
// Service VIP while a rollout replaces every Pod of its Deployment (3 replicas, maxSurge 1,
// maxUnavailable 0). The agent takes a Pod out of the Endpoints (Ready=False, waits until its IP has
// left every Endpoints, plus a settle time for the data plane) before its containers get SIGTERM.
//   npm run build && node --import tsx bench/services-rollout.ts [rollouts]

import http from 'node:http';
import type { Deployment, Pod, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { writeSection, type BenchServer } from './lib.js';
import os from 'node:os';
import { describeStats, echoContainer, finish, isReady, local, proxyStats, readyAddresses, servicePlan, startServiceBench, until } from './services-common.js';

const ROLLOUTS = Number(process.argv[2] ?? 2);
const CLIENTS = 4;
const plan = servicePlan(48, ['dns', 'ingress']);

interface Outcome {
  ok: number;
  failed: number;
  failures: string[];
  pods: Set<string>;
}

/** One request on a new connection; the answering Pod's name, or throws. */
function ask(vip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: vip, port: 80, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const pod = /pod=(\S+)/.exec(body)?.[1];
        if (res.statusCode === 200 && pod) resolve(pod);
        else reject(new Error(`HTTP ${res.statusCode}: ${body.slice(0, 60)}`));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function deploymentDone(server: BenchServer, generation: number): Promise<boolean> {
  const d = await server.client.get<Deployment>(R.deployments, 'default', 'roll');
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < generation) return false;
  if ((s.updatedReplicas ?? 0) < 3 || (s.replicas ?? 0) > 3 || (s.availableReplicas ?? 0) < 3) return false;
  // And the old Pods are really gone (not just terminating).
  const pods = (await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=roll' })).items;
  return pods.length === 3 && pods.every(isReady);
}

let server: BenchServer | undefined;
try {
  server = await startServiceBench(plan);
  await server.client.create(R.deployments, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'roll', namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'roll' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels: { app: 'roll' } }, spec: { terminationGracePeriodSeconds: 5, containers: [echoContainer()] } },
    },
  } as Deployment);
  const svc = await server.client.create<Service>(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'roll', namespace: 'default' },
    spec: { selector: { app: 'roll' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  } as Service);
  const vip = svc.spec.clusterIP!;
  await local(vip);
  await until(async () => (await readyAddresses(server!, 'roll')).length === 3, 120_000, '3 endpoints');
  await until(async () => (await ask(vip).catch(() => '')) !== '', 30_000, 'the VIP answering');

  const rows: string[] = [];
  let totalFailed = 0;
  for (let r = 1; r <= ROLLOUTS; r++) {
    const out: Outcome = { ok: 0, failed: 0, failures: [], pods: new Set() };
    const before = new Set((await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=roll' })).items.map((p) => p.metadata.name!));
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, async () => {
      while (!stop) {
        try {
          out.pods.add(await ask(vip));
          out.ok++;
        } catch (err) {
          out.failed++;
          if (out.failures.length < 5) out.failures.push((err as Error).message);
        }
      }
    });
    await new Promise((res) => setTimeout(res, 1000));
    const t0 = performance.now();
    // kubectl rollout restart: a new template annotation, so every Pod is replaced.
    const d = await server.client.patch<Deployment>(R.deployments, 'default', 'roll', 'merge', {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } },
    });
    await until(() => deploymentDone(server!, d.metadata.generation ?? 0), 180_000, 'the rollout', 100);
    const rolloutMs = performance.now() - t0;
    await new Promise((res) => setTimeout(res, 1000));
    stop = true;
    await Promise.all(clients);
    const after = (await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=roll' })).items.map((p) => p.metadata.name!);
    const replaced = after.every((n) => !before.has(n));
    totalFailed += out.failed;
    rows.push(
      `| ${r} | ${(rolloutMs / 1000).toFixed(1)} s | ${out.ok + out.failed} | **${out.failed}** | ${out.pods.size} (${replaced ? 'all 3 replaced' : 'NOT all replaced'}) | ${out.failures.join('; ') || '—'} |`,
    );
  }
  writeSection(
    'services-rollout',
    'Zero failed requests during a rolling update (issue #4, bench d)',
    `npm run build && node --import tsx bench/services-rollout.ts ${ROLLOUTS}`,
    [
      `${CLIENTS} clients on the host, each sending GET / to the Service VIP in a loop, a new connection per request, from 1 s`,
      'before until 1 s after a rollout that replaces all 3 Pods of the Deployment (maxSurge 1, maxUnavailable 0; the',
      'agent takes each old Pod out of the Endpoints before its containers get SIGTERM).',
      '',
      '| rollout | duration | requests | failed | Pods that answered | first failures |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
      `Failed requests over ${ROLLOUTS} rollouts: **${totalFailed}** (target 0). Data plane meanwhile: ${describeStats(await proxyStats(server))};`,
      `host load average ${os.loadavg()[0].toFixed(1)} (1 min) at the end.`,
    ].join('\n'),
  );
} finally {
  await finish(plan, server);
}
