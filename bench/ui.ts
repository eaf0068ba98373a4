// The live picture's figures (issue #16), on instance b53 in headless Chromium (Debian's, through
// playwright-core), against the built binary as users run it:
//   1. a Pod deletion -> the page showing it (p50/p99 of 20), beside the same change seen by a plain
//      API watch in the same run (the floor: what any client of the API could see);
//   2. the first render of a namespace with 1,000 Pods (200 Deployments x 5) behind 200 Services,
//      beside one plain list of those Pods from the API;
//   3. the server's extra RSS with 5 pages open on that namespace (idle server before, same run).
// Writes its section of BENCHMARKS.md. Run: npm run build && /work/bin/suite-lock node --import tsx bench/ui.ts

import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Deployment, Pod, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { ROOT, median, percentile, rssBytes, mib, writeSection } from './lib.js';
import { finish, servicePlan, startServiceBench } from './services-common.js';
import type { BenchServer } from './lib.js';
import { gotoRetry, launchBrowser, loginWithToken, type TestBrowser } from '../test/helpers/browser.js';

const DELETIONS = Number(process.env.UI_BENCH_DELETIONS ?? 20);
const DEPLOYMENTS = 200;
const REPLICAS = 5;
const RENDERS = 5;
const PAGES = 5;
const plan = servicePlan(53, ['dns', 'ingress']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isReady = (p: Pod) => !p.metadata.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(100);
  }
}

async function applyFile(server: BenchServer, file: string): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), '--kubeconfig', server.kubeconfig, 'apply', '-f', path.join(ROOT, 'examples', file)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`apply ${file}: ${r.stderr}`);
}

/** Deletion -> page, and deletion -> watch event, for DELETIONS Pods of the seed example. */
async function deletions(browser: TestBrowser): Promise<{ page: number[]; watch: number[] }> {
  const server = await startServiceBench(plan, ['--lb-pool', plan.lbPool]);
  try {
    await applyFile(server, '01-my-backend.yaml');
    await applyFile(server, '02-service-clusterip.yaml');
    const pods = async () => (await server.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=my-backend' })).items;
    await until(async () => (await pods()).filter(isReady).length === 3, '3 Ready Pods');
    const page = await browser.newPage();
    await loginWithToken(page, server.client.conn.server, server.client.conn.token!);
    const out = { page: [] as number[], watch: [] as number[] };
    for (let i = 0; i < DELETIONS; i++) {
      await page.waitForFunction(() => document.querySelectorAll('g.edge[data-from="svc:default/my-backend"][data-state=ready]').length === 3 && document.querySelectorAll('.node[data-kind=pod]').length === 3, undefined, { timeout: 120_000 });
      const victim = (await pods()).filter(isReady)[0].metadata.name!;
      const id = `pod:default/${victim}`;
      await page.evaluate(`(() => {
        delete window.__shownAt;
        const id = ${JSON.stringify(id)};
        const obs = new MutationObserver(() => {
          const el = document.querySelector('[data-id="' + id + '"]');
          if ((!el || el.dataset.state === 'terminating') && window.__shownAt === undefined) { window.__shownAt = Date.now(); obs.disconnect(); }
        });
        obs.observe(document.body, { subtree: true, childList: true, attributes: true });
      })()`);
      let watchAt = 0;
      const w = server.client.watch<Pod>(R.pods, { namespace: 'default', fieldSelector: `metadata.name=${victim}` }, {
        onEvent: (ev) => {
          if (!watchAt && (ev.type === 'DELETED' || ev.object.metadata.deletionTimestamp)) watchAt = Date.now();
        },
      });
      await sleep(200); // the watch's initial ADDED has arrived
      const t0 = Date.now();
      await server.client.delete(R.pods, 'default', victim);
      const shownAt = (await (await page.waitForFunction(() => (window as unknown as { __shownAt?: number }).__shownAt, undefined, { timeout: 10_000 })).jsonValue()) as number;
      await until(async () => watchAt > 0, 'the watch event', 10_000);
      w.stop();
      out.page.push(shownAt - t0);
      out.watch.push(watchAt - t0);
    }
    await page.close();
    return out;
  } finally {
    await finish(plan, server);
  }
}

/** 200 Deployments of 5 Pods (bound to a node of their own, no agent: their status is written here) behind 200 Services. */
export async function populate(server: BenchServer): Promise<void> {
  const c = server.client;
  const work: Promise<unknown>[] = [];
  for (let d = 0; d < DEPLOYMENTS; d++) {
    const name = `app${d}`;
    work.push(
      c.create(R.deployments, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'default' },
        spec: { replicas: REPLICAS, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { nodeName: 'bench-node', containers: [{ name: 'web', image: 'kubelite/echo:1', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
      } as Deployment),
      c.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } } as Service),
    );
    if (work.length >= 40) await Promise.all(work.splice(0));
  }
  await Promise.all(work);
  const pods = await until(async () => {
    const items = (await c.list<Pod>(R.pods, { namespace: 'default' })).items;
    return items.length === DEPLOYMENTS * REPLICAS ? items : undefined;
  }, `${DEPLOYMENTS * REPLICAS} Pods created`);
  // Running and Ready with addresses outside every routed range: rules get written, no packet is sent.
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (let i = 0; i < pods.length; i += 25) {
    await Promise.all(
      pods.slice(i, i + 25).map((p, j) => {
        const n = i + j;
        p.status = {
          phase: 'Running',
          podIP: `10.253.${n >> 7}.${(n & 127) + 1}`,
          startTime: now,
          conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
          containerStatuses: [{ name: 'web', ready: true, restartCount: 0, image: 'kubelite/echo:1', imageID: '', state: { running: { startedAt: now } }, lastState: {} }],
        };
        return c.update(R.pods, p, { subresource: 'status' });
      }),
    );
  }
  await until(async () => {
    const slices = (await c.list(R.endpointslices, { namespace: 'default' })).items as { endpoints?: unknown[] }[];
    return slices.reduce((s, x) => s + (x.endpoints?.length ?? 0), 0) >= DEPLOYMENTS * REPLICAS;
  }, 'every endpoint in an EndpointSlice');
}


/** Where the first render's time went (ms since navigation start): script loaded, snapshot in, road built, laid out, drawn. */
export type Breakdown = Record<'script' | 'snapshot' | 'road' | 'layout' | 'drawn', number>;
const breakdowns: Breakdown[] = [];

async function openRendered(page: Page, url: string): Promise<number> {
  const t0 = Date.now();
  await gotoRetry(page, url);
  // A function, not a string: the page's CSP forbids eval, which a string predicate needs.
  await page.waitForFunction((n) => document.querySelectorAll('.node[data-kind=service]').length === n && document.querySelectorAll('.node[data-kind=group]').length === n, DEPLOYMENTS, { timeout: 30_000, polling: 'raf' });
  const took = Date.now() - t0;
  // (A string: tsx would wrap a named inner function in a helper the page lacks.)
  breakdowns.push(
    (await page.evaluate(`(() => {
      const mark = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
      const script = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/app.js'));
      return { script: script?.responseEnd ?? NaN, snapshot: mark('kl:snapshot'), road: mark('kl:road'), layout: mark('kl:layout'), drawn: mark('kl:drawn') };
    })()`)) as Breakdown,
  );
  return took;
}

async function settledRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    samples.push(rssBytes(pid));
  }
  return median(samples);
}

async function scale(browser: TestBrowser): Promise<{ renders: number[]; list: number[]; rss: { before: number; open: number; after: number } }> {
  const server = await startServiceBench(plan, ['--lb-pool', plan.lbPool, '--disable', 'agent,dns,ingress']);
  try {
    await populate(server);
    const base = server.client.conn.server;
    const list: number[] = [];
    for (let i = 0; i < RENDERS; i++) {
      const t0 = Date.now();
      const r = await server.client.raw('GET', '/api/v1/namespaces/default/pods');
      if (r.status !== 200) throw new Error(`list: ${r.status}`);
      list.push(Date.now() - t0);
    }
    const login = await browser.newPage();
    await loginWithToken(login, base, server.client.conn.token!);
    await login.close();
    const renders: number[] = [];
    for (let i = 0; i < RENDERS; i++) {
      const page = await browser.newPage();
      renders.push(await openRendered(page, `${base}/ui/`));
      await page.close();
    }
    await sleep(3000);
    const pid = server.proc.pid!;
    const before = await settledRss(pid);
    const pages: Page[] = [];
    for (let i = 0; i < PAGES; i++) {
      const p = await browser.newPage();
      await openRendered(p, `${base}/ui/`);
      pages.push(p);
    }
    await sleep(10_000); // counters sampled every second for every page meanwhile
    const open = await settledRss(pid);
    for (const p of pages) await p.close();
    await sleep(3000);
    const after = await settledRss(pid);
    return { renders, list, rss: { before, open, after } };
  } finally {
    await finish(plan, server);
  }
}

if (process.argv[1]?.endsWith('ui.ts')) await main();

async function main(): Promise<void> {
const browser = await launchBrowser();
let del: Awaited<ReturnType<typeof deletions>>;
let big: Awaited<ReturnType<typeof scale>>;
try {
  del = await deletions(browser);
  big = await scale(browser);
} finally {
  await browser.close();
}
const med = (k: keyof Breakdown) => Math.round(median(breakdowns.slice(-RENDERS - PAGES, -PAGES).map((b) => b[k])));
const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const ms = (n: number) => `${Math.round(n)} ms`;
const p99 = (v: number[]) => percentile(v, 99);
const extra = big.rss.open - big.rss.before;
const row = (what: string, value: string, target: string, met: boolean, baseline: string) => `| ${what} | ${value} | ${target} | ${met ? 'met' : '**missed**'} | ${baseline} |`;
const body = `
| figure | kubelite UI | target | | baseline in the same run |
|---|---|---|---|---|
${row(`Pod deleted -> the page shows it (p50 / p99 of ${del.page.length})`, `${ms(median(del.page))} / ${ms(p99(del.page))}`, 'p99 < 1 s', p99(del.page) < 1000, `API watch sees it: ${ms(median(del.watch))} / ${ms(p99(del.watch))} (page/watch p50 ${(median(del.page) / Math.max(1, median(del.watch))).toFixed(1)}x)`)}
${row(`first render, ${DEPLOYMENTS * REPLICAS} Pods / ${DEPLOYMENTS} Services (median / max of ${RENDERS})`, `${ms(median(big.renders))} / ${ms(Math.max(...big.renders))}`, '< 1 s', Math.max(...big.renders) < 1000, `one API list of the ${DEPLOYMENTS * REPLICAS} Pods: ${ms(median(big.list))} (page/list ${(median(big.renders) / Math.max(1, median(big.list))).toFixed(1)}x)`)}
${row(`server RSS with ${PAGES} pages open`, `${extra >= 0 ? '+' : '−'}${mib(Math.abs(extra))} (${mib(big.rss.before)} -> ${mib(big.rss.open)})`, '< 10 MiB', extra < 10 * 1024 * 1024, `idle server ${mib(big.rss.before)}; after the pages closed ${mib(big.rss.after)}`)}

Deletions: the seed example (examples/01, 02) on Docker; the page's time is taken in the page (a MutationObserver notes when the Pod's card turns red or goes), the watch's when a \`watch\` of that Pod (fieldSelector, from this process) delivers the change; both from just before the DELETE. Samples (page, ms): ${del.page.join(', ')}.
First render, where the time goes (median, ms since the tab started loading): app.js loaded ${med('script')}, snapshot received and stored ${med('snapshot')}, road built ${med('road')}, laid out ${med('layout')}, drawn ${med('drawn')}.
First render: a new tab (session cookie set) until all ${DEPLOYMENTS} Services and ${DEPLOYMENTS} Deployment groups are drawn (collapsed by default at this size): page load, the SSE snapshot (${DEPLOYMENTS * REPLICAS} Pods, ${DEPLOYMENTS} Services and EndpointSlices), the road, its layout and the DOM. Pods here have no containers (\`--disable agent\`); their status (Running, Ready, an address outside every routed range) is written by the benchmark. Samples: ${big.renders.join(', ')} ms.
RSS: median of 5 samples a second apart, idle; then with ${PAGES} tabs open on that namespace for 10 s (each gets counters every second; the proxy's rule counters, \`nft list table\` in the default mode or \`iptables-save -c\` in the iptables mode, are read once a second for all of them); then after closing them.
Machine load average when done: ${load} (other worktrees may have been running tests).
`;
writeSection('ui', 'The live picture (issue #16): Pod deletion on the page, first render at 1,000 Pods, RSS per page', 'npm run build && /work/bin/suite-lock node --import tsx bench/ui.ts', body);
}
