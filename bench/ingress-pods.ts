// Ingress benchmark through a real `kubelite server` (instance b44, the built binary) and real Pods:
//  1. wrk keep-alive requests/s and p99 through the kubelite Ingress vs Debian's nginx configured by
//     hand to proxy the same Pod IPs, side by side (interleaved rounds) in one run;
//  2. change-to-effect of a new Ingress: API create -> first 200 through the ingress, idle and under load;
//  3. failed requests while the backend Deployment rolls (`rollout restart`), under wrk keep-alive load.
// Upstreams: kubelite/node:20's ws-echo (a keep-alive HTTP server), or with --upstream static
// kubelite/echo:1's busybox httpd on 8081 (a connection per request). Everything stays on this host:
// wrk -> 127.0.0.1, HAProxy/nginx -> Pod IPs on the instance's own bridge.
// Run: npm run build && node --import tsx bench/ingress-pods.ts [--duration 8] [--connections 50] [--rounds 3] [--upstream node|static]

import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Deployment, Ingress, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { buildImages } from '../src/images/index.js';
import { finish, readyAddresses, servicePlan, until, wipe } from './services-common.js';
import { fmt, getStatus, median, nginxProxyConfig, startNginx, stopProcess, versions, wrk, type WrkResult } from './ingress-common.js';
import { type BenchServer, startBenchServer, writeSection } from './lib.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const DURATION = Number(arg('duration', '8'));
const CONNECTIONS = Number(arg('connections', '50'));
const ROUNDS = Number(arg('rounds', '3'));
const UPSTREAM = arg('upstream', 'node') as 'node' | 'static';
if (UPSTREAM !== 'node' && UPSTREAM !== 'static') throw new Error('--upstream node|static');
const SLOT = 44;
const HTTP_PORT = 18000 + SLOT * 2;
const HTTPS_PORT = HTTP_PORT + 1;
const HOST = 'web.bench.test';
const NS = 'default';
const UPSTREAM_PORT = UPSTREAM === 'node' ? 8080 : 8081;

function webDeployment(replicas: number): Deployment {
  const labels = { app: 'web' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 10,
          containers: [
            {
              name: 'web',
              image: UPSTREAM === 'node' ? 'kubelite/node:20' : 'kubelite/echo:1',
              ports: [{ name: 'http', containerPort: UPSTREAM_PORT }],
              // ws-echo and echo-server both answer /ready; the static httpd serves /static
              readinessProbe: { httpGet: { path: UPSTREAM === 'node' ? '/ready' : '/static', port: UPSTREAM_PORT }, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 3 },
            },
          ],
        },
      },
    },
  };
}

const service = (name: string): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });

function ingress(name: string, host: string, svc: string): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS },
    spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
  };
}

/** Another kubelite server of this instance would share (and wipe) our containers: refuse to run beside it. */
function instanceInUse(instance: string): number | undefined {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('--instance');
      if (argv.includes('server') && i >= 0 && argv[i + 1] === instance) return Number(pid);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

async function main(): Promise<void> {
  const plan = servicePlan(SLOT, ['proxy', 'dns']);
  const busy = instanceInUse(plan.instance);
  if (busy) throw new Error(`a kubelite server of instance ${plan.instance} is already running (pid ${busy}); this benchmark would wipe its containers — wait for it to end`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kl-ingpods-'));
  const children: ChildProcess[] = [];
  let server: BenchServer | undefined;
  try {
    await buildImages({ only: UPSTREAM === 'node' ? ['echo', 'pause', 'node'] : ['echo', 'pause'] });
    // no proxier here (the ingress reaches Pod IPs directly), so no service route to wait for
    await wipe(plan);
    const t0start = Date.now();
    server = await startBenchServer([...plan.args, '--ingress-http-port', String(HTTP_PORT), '--ingress-https-port', String(HTTPS_PORT)], { instance: plan.instance });
    console.error(`server up in ${Date.now() - t0start} ms`);
    // the ingress's own warnings (failed runtime updates, HAProxy restarts) explain odd figures
    server.proc.stderr?.on('data', (d: Buffer) => {
      for (const line of d.toString('utf8').split('\n')) if (line.includes('"component":"ingress"') || line.includes('haproxy')) console.error(`server: ${line.slice(0, 400)}`);
    });
    const c = server.client;
    // /readyz may answer before the last component (the ingress) is up
    await until(async () => (await getStatus(HTTP_PORT, 'nothing.test')) === 404, 60_000, 'the ingress to answer');
    await c.create(R.deployments, webDeployment(2));
    await c.create(R.services, service('web'));
    await c.create(R.ingresses, ingress('web', HOST, 'web'));
    const ips = await until(async () => {
      const a = await readyAddresses(server!, 'web');
      return a.length === 2 ? a : undefined;
    }, 120_000, '2 ready web Pods');
    const path = UPSTREAM === 'node' ? '/' : '/static';
    await until(async () => (await getStatus(HTTP_PORT, HOST, path)) === 200, 30_000, 'the Ingress to route');

    // nginx by hand to the very same Pod IPs (it cannot follow Endpoints: fixed upstreams)
    const nginxPort = HTTP_PORT + 1000;
    const ref = await startNginx(work, 'reference', nginxProxyConfig(nginxPort, ips.map((ip) => ({ ip, port: UPSTREAM_PORT }))), [{ ip: '127.0.0.1', port: nginxPort }]);
    children.push(ref);
    if ((await getStatus(nginxPort, HOST, path)) !== 200) throw new Error('nginx does not reach the Pods');

    // 1. throughput, interleaved so both see the same machine load
    await wrk(HTTP_PORT, HOST, 2, CONNECTIONS, path);
    await wrk(nginxPort, HOST, 2, CONNECTIONS, path);
    const ours: WrkResult[] = [];
    const theirs: WrkResult[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      ours.push(await wrk(HTTP_PORT, HOST, DURATION, CONNECTIONS, path));
      theirs.push(await wrk(nginxPort, HOST, DURATION, CONNECTIONS, path));
    }
    await stopProcess(ref);

    // 2. change to effect: API create of a new Ingress -> first 200 on a fresh connection
    const effect = async (i: number): Promise<number> => {
      const host = `new${i}.bench.test`;
      const t0 = performance.now();
      await c.create(R.ingresses, ingress(`new${i}`, host, 'web'));
      let last = 0;
      while (performance.now() - t0 < 5000) if ((last = await getStatus(HTTP_PORT, host, path)) === 200) return performance.now() - t0;
      console.error(`new${i}: no 200 within 5 s (last status ${last})`);
      return Infinity;
    };
    const idle: number[] = [];
    for (let i = 0; i < 20; i++) idle.push(await effect(i));
    const loaded: number[] = [];
    const bg = wrk(HTTP_PORT, HOST, 5, CONNECTIONS, path);
    await sleep(500);
    for (let i = 20; i < 30; i++) loaded.push(await effect(i));
    await bg;

    // 3. two `rollout restart`s of the backend under keep-alive load
    const rollSeconds = 60;
    const rolling = wrk(HTTP_PORT, HOST, rollSeconds, CONNECTIONS, path);
    const t0 = Date.now();
    // a trace on stderr: ready endpoints and one probe request every 500 ms
    let tracing = true;
    const trace = (async () => {
      while (tracing) {
        const [eps, st] = await Promise.all([readyAddresses(server!, 'web').catch(() => []), getStatus(HTTP_PORT, HOST, path)]);
        console.error(`roll +${((Date.now() - t0) / 1000).toFixed(1)}s: ready ${eps.join(',') || '-'} status ${st}`);
        await sleep(500);
      }
    })();
    await sleep(1000);
    const rolls: string[] = [];
    for (let n = 0; n < 2 && Date.now() - t0 < (rollSeconds - 15) * 1000; n++) {
      const before = new Set(await readyAddresses(server, 'web'));
      const r0 = Date.now();
      await c.patch(R.deployments, NS, 'web', 'merge', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
      const done = await until(async () => {
        const now = await readyAddresses(server!, 'web');
        const d = await c.get<Deployment>(R.deployments, NS, 'web');
        return now.length === 2 && now.every((ip) => !before.has(ip)) && d.status?.updatedReplicas === 2 && d.status?.replicas === 2;
      }, (rollSeconds - 2) * 1000 - (Date.now() - t0), 'the roll to finish').then(() => true, () => false);
      rolls.push(done ? ((Date.now() - r0) / 1000).toFixed(1) : `unfinished after ${((Date.now() - r0) / 1000).toFixed(0)}`);
      if (!done) break;
    }
    const roll = await rolling;
    tracing = false;
    await trace;

    const v = await versions();
    const oRps = median(ours.map((x) => x.rps));
    const nRps = median(theirs.map((x) => x.rps));
    const oP99 = median(ours.map((x) => x.p99));
    const nP99 = median(theirs.map((x) => x.p99));
    const upstreamText = UPSTREAM === 'node' ? 'kubelite/node:20 ws-echo (Node http, keep-alive)' : 'kubelite/echo:1 busybox httpd :8081 (a connection per request)';
    const body = [
      `A real \`kubelite server\` (instance b44: agent, scheduler, controllers, Services wiring, ingress; proxy and DNS off) with a Deployment of 2 Pods of ${upstreamText}. nginx is configured by hand to proxy the same two Pod IPs.`,
      '',
      `#### Throughput (wrk -t1 -c${CONNECTIONS} -d${DURATION}s keep-alive, median of ${ROUNDS} interleaved rounds)`,
      '',
      '| proxy | requests/s | p50 ms | p99 ms | rounds (rps) |',
      '|---|---:|---:|---:|---|',
      `| kubelite Ingress (HAProxy ${v.haproxy}) | ${fmt(oRps, 0)} | ${fmt(median(ours.map((x) => x.p50)))} | ${fmt(oP99)} | ${ours.map((x) => x.rps.toFixed(0)).join(', ')} |`,
      `| nginx by hand (Debian ${v.nginx}, worker_processes auto, upstream keepalive 64) | ${fmt(nRps, 0)} | ${fmt(median(theirs.map((x) => x.p50)))} | ${fmt(nP99)} | ${theirs.map((x) => x.rps.toFixed(0)).join(', ')} |`,
      `| **ratio kubelite / nginx** (target rps >= 0.8, p99 <= 1.5) | **${fmt(oRps / nRps)}** | | **${fmt(oP99 / nP99)}** | |`,
      '',
      '#### Change to effect: a new Ingress, API create to its first 200 through the ingress (target < 100 ms)',
      '',
      '| condition | n | p50 ms | max ms |',
      '|---|---:|---:|---:|',
      `| idle | ${idle.length} | ${fmt(median(idle), 1)} | ${fmt(Math.max(...idle), 1)} |`,
      `| under wrk load | ${loaded.length} | ${fmt(median(loaded), 1)} | ${fmt(Math.max(...loaded), 1)} |`,
      '',
      `#### Rolling the backend Deployment under load (${rolls.length} \`rollout restart\`s of 2 Pods, maxSurge 1, maxUnavailable 0, during wrk ${rollSeconds}s keep-alive; target 0 failed)`,
      '',
      '| requests | non-2xx | socket errors (connect/read/write/timeout) | rps | roll durations s |',
      '|---:|---:|---:|---:|---|',
      `| ${roll.requests} | ${roll.non2xx} | ${roll.socketErrors} (${roll.socketDetail}) | ${fmt(roll.rps, 0)} | ${rolls.join(', ')} |`,
      ...(UPSTREAM === 'static'
        ? [
            '',
            'With this upstream the Pods are the bottleneck: busybox httpd forks per connection and saturates well below 50 concurrent connections, so rounds vary widely, latency is the upstream\'s queueing, "under wrk load" change-to-effect includes waiting for a saturated Pod to answer, and wrk\'s timeouts (2 s) count slow answers, not failed ones. The node upstream above is the meaningful comparison of the proxies.',
          ]
        : []),
    ];
    const command = `npm run build && node --import tsx bench/ingress-pods.ts --duration ${DURATION} --connections ${CONNECTIONS} --rounds ${ROUNDS} --upstream ${UPSTREAM}`;
    writeSection(`ingress-pods-${UPSTREAM}`, `Ingress through a real server and real Pods vs nginx (issue #7), upstream ${UPSTREAM}`, command, body.join('\n'));
  } finally {
    for (const ch of children) await stopProcess(ch).catch(() => undefined);
    await finish(plan, server);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
