// (e) Cold start: from `kubelite server` on an empty data dir until the seed example's Service
// (examples/01-my-backend.yaml + 02-service-clusterip.yaml) answers through its VIP. The images are
// already built (the server only checks their hash), which is the "excluding the image build" of the
// target. Several runs, each on a fresh data dir and a cleaned-up instance.
//   npm run build && node --import tsx bench/services-coldstart.ts [runs]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KObject, Service } from '../src/api/types.js';
import { byKind } from '../src/api/resources.js';
import { ROOT, median, writeSection, type BenchServer } from './lib.js';
import { finish, get, local, servicePlan, startServiceBench, until } from './services-common.js';

const RUNS = Number(process.argv[2] ?? 3);
const plan = servicePlan(49, ['dns', 'ingress']);

function manifests(): KObject[] {
  const out: KObject[] = [];
  for (const f of ['01-my-backend.yaml', '02-service-clusterip.yaml']) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'))) {
      const o = doc.toJS() as KObject | null;
      if (o) out.push({ ...o, metadata: { ...o.metadata, namespace: 'default' } });
    }
  }
  return out;
}

interface Run {
  ready: number;
  applied: number;
  answered: number;
}

const runs: Run[] = [];
let server: BenchServer | undefined;
try {
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    server = await startServiceBench(plan);
    const ready = performance.now() - t0;
    let vip = '';
    for (const o of manifests()) {
      const res = byKind(o.apiVersion, o.kind);
      if (!res) throw new Error(`unknown kind ${o.kind}`);
      const created = await server.client.create(res, o);
      if (o.kind === 'Service') vip = (created as Service).spec.clusterIP!;
    }
    const applied = performance.now() - t0;
    await local(vip);
    await until(async () => /pod=my-backend-/.test(await get(vip, 80, '/', 1000)), 60_000, 'the VIP answering', 5);
    const answered = performance.now() - t0;
    runs.push({ ready, applied, answered });
    await finish(plan, server);
    server = undefined;
  }
  const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const med = median(runs.map((r) => r.answered));
  writeSection(
    'services-coldstart',
    'Cold start to the seed Service answering through its VIP, DNS and Ingress disabled (issue #4, bench e; the default configuration: bench/coldstart.ts)',
    `npm run build && node --import tsx bench/services-coldstart.ts ${RUNS}`,
    [
      'From spawning `kubelite server` on an empty data dir (images already built) to the first HTTP answer from a',
      'my-backend Pod through the my-backend ClusterIP, creating examples/01 and 02 through the API as soon as /readyz',
      'says ready. Each run on a fresh data dir and a cleaned-up instance.',
      '',
      '| run | server ready | manifests created | VIP answers |',
      '|---|---|---|---|',
      ...runs.map((r, i) => `| ${i + 1} | ${f(r.ready)} | ${f(r.applied)} | **${f(r.answered)}** |`),
      '',
      `Median: **${f(med)}** (target < 2 s: ${med < 2000 ? 'met' : 'missed'}).`,
      `Host load average ${os.loadavg()[0].toFixed(1)} (1 min) at the end: other work shares the 2 cores.`,
    ].join('\n'),
  );
} finally {
  await finish(plan, server);
}
