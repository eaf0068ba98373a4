// Shared by the Service benchmarks: a real server (the built binary) with the proxier on its own
// instance and address ranges (b46..b49; b41..b45 belong to other benchmarks), HTTP probes that only
// ever contact local addresses, and a cleanup that removes everything the instance made (containers,
// network, chains, routes, devices).

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Endpoints, Pod } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { isStatusError } from '../src/api/errors.js';
import { hostNames } from '../src/config.js';
import { exec } from '../src/util/exec.js';
import { cleanupInstance } from '../src/main/cleanup.js';
import { assertLocalRoute } from '../test/helpers/netns.js';
import { startBenchServer, type BenchServer } from './lib.js';
import { nthAddress } from '../src/util/ip.js';

export interface ServicePlan {
  slot: number;
  instance: string;
  podCIDR: string;
  serviceCIDR: string;
  lbPool: string;
  nodePortRange: [number, number];
  args: string[];
}

/** Instance `b<slot>`, address plan as test/helpers/server.ts' slots (benches use 40+). */
export function servicePlan(slot: number, disable: string[]): ServicePlan {
  const plan = {
    slot,
    instance: `b${slot}`,
    podCIDR: `10.200.${slot}.0/24`,
    serviceCIDR: `10.201.${slot}.0/24`,
    lbPool: `10.202.${slot}.0/24`,
    nodePortRange: [20000 + slot * 100, 20000 + slot * 100 + 99] as [number, number],
  };
  return {
    ...plan,
    args: [
      '--pod-cidr', plan.podCIDR,
      '--service-cidr', plan.serviceCIDR,
      '--cluster-dns', `10.201.${slot}.10`,
      '--service-node-port-range', `${plan.nodePortRange[0]}-${plan.nodePortRange[1]}`,
      ...(disable.length ? ['--disable', disable.join(',')] : []),
    ],
  };
}

export async function wipe(plan: ServicePlan, dataDir?: string): Promise<void> {
  await cleanupInstance({ names: hostNames({ instance: plan.instance }), serviceCIDR: plan.serviceCIDR, lbPool: plan.lbPool });
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
}

/** True once the service CIDR is routed to the instance's service device (the proxier's first sync did it). */
export async function serviceRouteReady(plan: ServicePlan): Promise<boolean> {
  const r = await exec('ip', ['-json', 'route', 'get', nthAddress(plan.serviceCIDR, 2)]);
  if (r.code !== 0) return false;
  const [route] = JSON.parse(r.stdout) as { dev?: string }[];
  return route?.dev === hostNames({ instance: plan.instance }).serviceDevice;
}

/**
 * Starts the server and waits for the data plane too: /readyz can say ok before the last component
 * has registered its check, and no packet may go to a VIP before its range is routed to a local device.
 */
export async function startServiceBench(plan: ServicePlan, extra: string[] = []): Promise<BenchServer> {
  if (process.getuid?.() !== 0) throw new Error('the Service benchmarks need root (iptables, Docker)');
  await wipe(plan);
  const server = await startBenchServer([...plan.args, ...extra], { instance: plan.instance });
  const end = Date.now() + 60_000;
  while (!(await serviceRouteReady(plan))) {
    if (Date.now() > end) throw new Error(`the service CIDR ${plan.serviceCIDR} was not routed to the service device within 60 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return server;
}

export async function finish(plan: ServicePlan, server: BenchServer | undefined): Promise<void> {
  await server?.stop().catch(() => undefined);
  await wipe(plan, server?.dataDir);
}

/** One request on a new connection: status 200 body, or `error:<code>`. */
export function get(addr: string, port: number, path = '/', timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: addr, port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? body : `error:HTTP${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error:${e.code ?? e.message}`));
  });
}

/** One TCP connect to addr:port: accepted, refused (RST or ICMP unreachable), or no answer in time. */
export function connects(addr: string, port: number, timeoutMs = 1000): Promise<'ok' | 'refused' | 'timeout'> {
  return new Promise((resolve) => {
    const s = net.connect({ host: addr, port, timeout: timeoutMs });
    const done = (r: 'ok' | 'refused' | 'timeout') => {
      s.destroy();
      resolve(r);
    };
    s.once('connect', () => done('ok'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'timeout'));
    s.once('timeout', () => done('timeout'));
  });
}

export async function local(addr: string): Promise<void> {
  await assertLocalRoute(addr);
}

export async function readyAddresses(server: BenchServer, name: string): Promise<string[]> {
  try {
    const ep = await server.client.get<Endpoints>(R.endpoints, 'default', name);
    return (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return [];
    throw err;
  }
}

export async function until<T>(fn: () => Promise<T | undefined | false | null>, timeoutMs: number, what: string, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function isReady(p: Pod): boolean {
  return !p.metadata.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

export function echoContainer(port = 8080) {
  return {
    name: 'echo',
    image: 'kubelite/echo:1',
    imagePullPolicy: 'Never' as const,
    ports: [
      { name: 'http', containerPort: port, protocol: 'TCP' as const },
      { name: 'static', containerPort: 8081, protocol: 'TCP' as const },
    ],
    env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1 },
  };
}

export const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

export interface ProxyStats {
  syncs: number;
  meanMs: number;
  /** Upper bound of the histogram bucket holding the 99th percentile sync. */
  p99BucketMs: number;
  errors: number;
}

/** The proxier's sync figures from the server's /metrics (prom-client histogram). */
export async function proxyStats(server: BenchServer): Promise<ProxyStats> {
  const text = (await server.client.raw('GET', '/metrics')).body;
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  // Labelled by proxy mode ({mode="nftables"}); one server runs one mode.
  const count = num(/^kubelite_proxy_sync_duration_seconds_count(?:\{[^}]*\})? (\S+)$/m);
  const sum = num(/^kubelite_proxy_sync_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/m);
  let p99 = NaN;
  for (const m of text.matchAll(/^kubelite_proxy_sync_duration_seconds_bucket\{le="([^"]+)"(?:,mode="[^"]+")?\} (\S+)$/gm)) {
    if (Number(m[2]) >= 0.99 * count) {
      p99 = m[1] === '+Inf' ? Infinity : Number(m[1]) * 1000;
      break;
    }
  }
  return { syncs: count, meanMs: (sum / count) * 1000, p99BucketMs: p99, errors: num(/^kubelite_proxy_sync_errors_total(?:\{[^}]*\})? (\S+)$/m) };
}

export function describeStats(s: ProxyStats): string {
  return `${s.syncs} proxy syncs, mean ${s.meanMs.toFixed(1)} ms, p99 <= ${s.p99BucketMs} ms, ${s.errors} failed`;
}
