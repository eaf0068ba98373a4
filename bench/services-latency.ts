// (a) Network programming latency: from a Pod's Ready condition being written to the API until its
// Service's VIP routes to it (a TCP connect through the VIP succeeds), and back (unready until the VIP
// refuses). The data plane stands alone: the agent is disabled and the Pod is a network namespace on
// the instance's pod bridge whose status the benchmark writes, so the figure is the endpoints
// controller + proxier + iptables-restore path and nothing else.
//   npm run build && node --import tsx bench/services-latency.ts [iterations]

import type { Endpoints, Pod, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { hostNames } from '../src/config.js';
import { createBridge, createPod, type FakePod, type TestBridge } from '../test/helpers/netns.js';
import { percentile, writeSection } from './lib.js';
import os from 'node:os';
import { connects, describeStats, finish, fmt, local, proxyStats, servicePlan, startServiceBench, until } from './services-common.js';
import type { BenchServer } from './lib.js';

const ITERATIONS = Number(process.argv[2] ?? 100);
const plan = servicePlan(46, ['agent', 'scheduler', 'controllers', 'dns', 'ingress']);
const names = hostNames({ instance: plan.instance });
const POD_IP = '10.200.46.11';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setReady(server: BenchServer, ready: boolean): Promise<void> {
  const p = await server.client.get<Pod>(R.pods, 'default', 'p1');
  p.status = { phase: 'Running', podIP: POD_IP, podIPs: [{ ip: POD_IP }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  await server.client.update(R.pods, p, { subresource: 'status' });
}

/**
 * Polls every millisecond until a connect() through the VIP is accepted (want true) or refused (want
 * false); returns the elapsed ms since t0. A connect that gets no answer proves nothing either way
 * (while the Pod is still routed, a burst of connects can overflow its listen queue) and is retried.
 */
async function waitConnect(vip: string, want: boolean, t0: number, timeoutMs = 5000): Promise<number> {
  for (;;) {
    const r = await connects(vip, 80, 50);
    if (r === (want ? 'ok' : 'refused')) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`VIP did not ${want ? 'route' : 'refuse'} within ${timeoutMs} ms`);
    await sleep(1);
  }
}

let server: BenchServer | undefined;
let bridge: TestBridge | undefined;
let pod: FakePod | undefined;
try {
  server = await startServiceBench(plan);
  bridge = await createBridge(names.podBridge, '10.200.46.1/24');
  pod = await createPod(bridge, 'klb46-p1', 'klb46p1', POD_IP);
  await pod.serveHttp(8080, 'p1\n');
  await server.client.create<Pod>(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p1', namespace: 'default', labels: { app: 'lat' } },
    spec: { nodeName: 'bench', containers: [{ name: 'echo', image: 'kubelite/echo:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
  } as Pod);
  await setReady(server, false);
  const svc = await server.client.create<Service>(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'lat', namespace: 'default' },
    spec: { selector: { app: 'lat' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  } as Service);
  const vip = svc.spec.clusterIP!;
  await local(vip);
  await until(async () => (await connects(vip, 80, 500)) === 'refused', 10_000, 'the VIP to refuse');

  // When the Endpoints change reaches a watcher: splits the time between the controller and the proxier.
  let epSeen: ((t: number) => void) | undefined;
  const watch = server.client.watch<Endpoints>(R.endpoints, { namespace: 'default', fieldSelector: 'metadata.name=lat', resourceVersion: (await server.client.get<Endpoints>(R.endpoints, 'default', 'lat')).metadata.resourceVersion }, {
    onEvent: () => epSeen?.(performance.now()),
  });
  const nextEndpoints = () => new Promise<number>((resolve) => (epSeen = resolve));

  const up: number[] = [];
  const down: number[] = [];
  const upEp: number[] = [];
  const downEp: number[] = [];
  for (let i = 0; i < ITERATIONS + 5; i++) {
    let seen = nextEndpoints();
    let t0 = performance.now();
    await setReady(server, true);
    const u = await waitConnect(vip, true, t0);
    const ue = (await seen) - t0;
    await sleep(20);
    seen = nextEndpoints();
    t0 = performance.now();
    await setReady(server, false);
    const d = await waitConnect(vip, false, t0);
    const de = (await seen) - t0;
    await sleep(20);
    // The first few warm up the JIT, the caches and iptables-nft.
    if (u > 100 || d > 100) process.stderr.write(`slow iteration ${i}: up ${u.toFixed(0)} ms, down ${d.toFixed(0)} ms, at wall-clock second ${new Date().getSeconds()}\n`);
    if (i >= 5) {
      up.push(u);
      down.push(d);
      upEp.push(ue);
      downEp.push(de);
    }
  }
  watch.stop();
  const row = (label: string, v: number[]) => `| ${label} | ${fmt(percentile(v, 50))} | ${fmt(percentile(v, 90))} | ${fmt(percentile(v, 99))} | ${fmt(Math.max(...v))} |`;
  writeSection(
    'services-latency',
    'Service network programming latency (issue #4, bench a)',
    `npm run build && node --import tsx bench/services-latency.ts ${ITERATIONS}`,
    [
      `One Pod behind a ClusterIP, its Ready condition toggled through the API ${ITERATIONS} times; the clock runs from the`,
      'status write (the PUT included) until a TCP connect through the VIP succeeds (Ready) or is refused (unready),',
      'polled every millisecond from the host. Pod = a network namespace on the instance\'s pod bridge, so this is',
      'the endpoints controller, the proxier and iptables-restore, without the agent\'s probe period.',
      '',
      '| transition | p50 | p90 | p99 | max |',
      '|---|---|---|---|---|',
      row('Ready -> Endpoints seen by a watcher', upEp),
      row('Ready -> VIP routes to the Pod', up),
      row('unready -> Endpoints seen by a watcher', downEp),
      row('unready -> VIP refuses', down),
      '',
      `Target: p99 < 100 ms for Ready -> routed: **${percentile(up, 99) < 100 ? 'met' : 'missed'}** (${fmt(percentile(up, 99))}).`,
      `Data plane meanwhile: ${describeStats(await proxyStats(server))}; host load average ${os.loadavg()[0].toFixed(1)} (1 min) at the end.`,
    ].join('\n'),
  );
} finally {
  await pod?.remove();
  await finish(plan, server);
  await bridge?.remove();
}
