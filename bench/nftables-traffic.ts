// The traffic half of bench/nftables.ts: a real `kubelite server` per proxy mode (the built binary, agent
// off) on instance b47, whose Pods are network namespaces on a Docker bridge network made for the run
// (so Docker's own FORWARD rules apply as for real Pods):
//  - requests/s through a ClusterIP vs straight to the Pod, from the host and from a client Pod, with
//    keep-alive and with a new connection per request (`Connection: close`, the server closes first, so
//    TIME_WAIT lands in the Pod as with a real server). Fair by construction: the server Pod is made
//    afresh (same address and MAC, TIME_WAIT and conntrack entries gone) before every run, and VIP and
//    direct runs alternate, swapping which goes first every round;
//  - network programming latency: a Pod's Ready condition written through the API until a connect
//    through its Service's VIP succeeds (and back until it is refused).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import Dockerode from 'dockerode';
import type { Pod, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { hostNames } from '../src/config.js';
import { exec } from '../src/util/exec.js';
import type { ProxyMode } from '../src/netfilter/proxier.js';
import { createPod, type FakePod, type TestBridge } from '../test/helpers/netns.js';
import type { BenchServer } from './lib.js';
import { connects, finish, local, proxyStats, servicePlan, startServiceBench, until, type ProxyStats } from './services-common.js';

export type Combo = 'host-new' | 'host-keepalive' | 'pod-new' | 'pod-keepalive';
export const COMBOS: Combo[] = ['host-new', 'pod-new', 'host-keepalive', 'pod-keepalive'];

export interface WrkRun {
  rps: number;
  errors: number;
}

/** Back-to-back runs against one server Pod, nothing drained: where the time went before item 4. */
export interface Sustained {
  /** 'now': the rules as kubelite writes them; 'masq': the host's traffic to the VIP masqueraded as before. */
  kind: 'now' | 'masq';
  rps: number[];
  podTimeWait: number;
  /** SYNs the host had to send again during the runs (TcpExtTCPSynRetrans). */
  synRetrans: number;
}

export interface TrafficReport {
  mode: ProxyMode;
  sustained: Sustained[];
  throughput: Record<Combo, { vip: WrkRun[]; direct: WrkRun[] }>;
  up: number[];
  down: number[];
  stats: ProxyStats;
  /** TIME_WAIT sockets in the server Pod after the last new-connection run (what a fresh Pod per run clears). */
  timeWaitAfterRun: number;
}

export interface TrafficOptions {
  seconds: number;
  rounds: number;
  iterations: number;
  connections: number;
  /** The static epoll server binary (bench/epoll-server.c). */
  serverBinary: string;
  /** Back-to-back runs per kind in the sustained diagnostic. */
  sustainedRuns: number;
}

const OLD_MASQ_TABLE = 'klbench-b47-oldmasq';

async function synRetrans(): Promise<number> {
  const r = await exec('nstat', ['-saz', 'TcpExtTCPSynRetrans']);
  return Number(/TcpExtTCPSynRetrans\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
}

/**
 * The SNAT kubelite used to apply to the host's traffic to a VIP, recreated for the measurement in a
 * table of the benchmark's own (before kubelite's and Docker's NAT: the first SNAT wins), so the rules
 * kubelite writes stay as they are in both modes.
 */
async function oldMasquerade(on: boolean, vip: string, podCIDR: string): Promise<void> {
  const { nftApply, nftDeleteTable } = await import('../src/netfilter/nft.js');
  if (!on) {
    await nftDeleteTable(OLD_MASQ_TABLE);
    return;
  }
  await nftApply(
    [
      `table ip ${OLD_MASQ_TABLE} {`,
      '\tchain post {',
      '\t\ttype nat hook postrouting priority srcnat - 2; policy accept;',
      `\t\tct status dnat ct original ip daddr ${vip} ct original ip saddr != ${podCIDR} masquerade fully-random`,
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
}

const plan = servicePlan(47, ['agent', 'scheduler', 'controllers', 'dns', 'ingress']);
const names = hostNames({ instance: plan.instance });
const GATEWAY = '10.200.47.1';
const SRV = { ip: '10.200.47.10', mac: '02:00:0a:c8:2f:0a' };
const CLIENT = '10.200.47.20';
const LAT = '10.200.47.30';
const PORT = 8080;

function wrk(url: string, close: boolean, fromPod: boolean, o: TrafficOptions): Promise<WrkRun> {
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '2s', ...(close ? ['-H', 'Connection: close'] : []), url];
  const [cmd, argv] = fromPod ? ['ip', ['netns', 'exec', 'klb47-cli', 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: (o.seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`${cmd} ${argv.join(' ')}: ${err.message}`));
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      resolve({ rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]), errors: non2xx + (se ? Number(se[1]) + Number(se[4]) : 0) });
    });
  });
}

async function setPod(server: BenchServer, name: string, ip: string, ready: boolean): Promise<void> {
  const p = await server.client.get<Pod>(R.pods, 'default', name);
  p.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  await server.client.update(R.pods, p, { subresource: 'status' });
}

async function createObjects(server: BenchServer, name: string, ip: string, ready: boolean): Promise<string> {
  await server.client.create<Pod>(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { nodeName: 'bench', containers: [{ name: 'srv', image: 'kubelite/echo:1', ports: [{ name: 'http', containerPort: PORT }] }] },
  } as Pod);
  await setPod(server, name, ip, ready);
  const svc = await server.client.create<Service>(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  } as Service);
  return svc.spec.clusterIP!;
}

/** Polls until a connect through the VIP is accepted (want) or refused; ms since t0. */
async function waitConnect(vip: string, want: boolean, t0: number): Promise<number> {
  for (;;) {
    const r = await connects(vip, 80, 50);
    if (r === (want ? 'ok' : 'refused')) return performance.now() - t0;
    if (performance.now() - t0 > 5000) throw new Error(`VIP did not ${want ? 'route' : 'refuse'} within 5 s`);
    await new Promise((res) => setTimeout(res, 1));
  }
}

export async function runTraffic(mode: ProxyMode, o: TrafficOptions): Promise<TrafficReport> {
  const docker = new Dockerode();
  let server: BenchServer | undefined;
  let network: Dockerode.Network | undefined;
  const pods: (FakePod | undefined)[] = [];
  let srvPod: FakePod | undefined;
  let srvProc: ChildProcess | undefined;
  try {
    server = await startServiceBench(plan, ['--proxy-mode', mode]);
    // The bridge Docker would make for the agent; labelled, so `kubelite cleanup` (finish) removes it.
    network = await docker.createNetwork({
      Name: names.dockerNetwork,
      Driver: 'bridge',
      IPAM: { Driver: 'default', Config: [{ Subnet: plan.podCIDR, Gateway: GATEWAY }] },
      Options: { 'com.docker.network.bridge.name': names.podBridge },
      Labels: { [names.instanceLabel]: names.instanceValue },
    });
    const bridge: TestBridge = { name: names.podBridge, gateway: GATEWAY, prefixLen: 24, remove: async () => {} };
    const client = await createPod(bridge, 'klb47-cli', 'klb47cli', CLIENT);
    pods.push(client);
    const freshServer = async () => {
      srvProc?.kill('SIGKILL');
      await srvPod?.remove();
      // Only this Pod's flows: the ones a previous run left would meet the next run's connections.
      await exec('conntrack', ['-D', '-p', 'tcp', '--reply-src', SRV.ip]);
      srvPod = await createPod(bridge, 'klb47-srv', 'klb47srv', SRV.ip, { mac: SRV.mac });
      srvProc = spawn('ip', ['netns', 'exec', 'klb47-srv', o.serverBinary, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((resolve) => srvProc!.stdout!.once('data', resolve));
    };
    await freshServer();
    const vip = await createObjects(server, 'tp', SRV.ip, true);
    await local(vip);
    await local(SRV.ip);
    await until(async () => (await connects(vip, 80, 500)) === 'ok', 30_000, 'the VIP answering');

    const throughput = Object.fromEntries(COMBOS.map((c) => [c, { vip: [] as WrkRun[], direct: [] as WrkRun[] }])) as TrafficReport['throughput'];
    let timeWaitAfterRun = 0;
    for (const combo of COMBOS) {
      const fromPod = combo.startsWith('pod');
      const close = combo.endsWith('new');
      const run = async (path: 'vip' | 'direct') => {
        await freshServer();
        const r = await wrk(path === 'vip' ? `http://${vip}:80/` : `http://${SRV.ip}:${PORT}/`, close, fromPod, o);
        throughput[combo][path].push(r);
        if (close) timeWaitAfterRun = Number((await exec('ip', ['netns', 'exec', 'klb47-srv', 'sh', '-c', 'ss -tan state time-wait | wc -l'])).stdout.trim()) - 1;
      };
      for (let i = 0; i < o.rounds; i++) {
        for (const path of i % 2 === 0 ? (['direct', 'vip'] as const) : (['vip', 'direct'] as const)) await run(path);
        process.stderr.write(`${mode} ${combo} round ${i + 1}: VIP ${throughput[combo].vip[i].rps.toFixed(0)}/s, direct ${throughput[combo].direct[i].rps.toFixed(0)}/s\n`);
      }
    }

    // Where the time went: back-to-back host -> VIP runs against one Pod, TIME_WAIT and conntrack left as they are.
    const sustained: Sustained[] = [];
    for (const kind of ['now', 'masq'] as const) {
      await freshServer();
      await oldMasquerade(kind === 'masq', vip, plan.podCIDR);
      try {
        const s0 = await synRetrans();
        const rpsRuns: number[] = [];
        for (let i = 0; i < o.sustainedRuns; i++) rpsRuns.push((await wrk(`http://${vip}:80/`, true, false, o)).rps);
        const podTimeWait = Number((await exec('ip', ['netns', 'exec', 'klb47-srv', 'sh', '-c', 'ss -tan state time-wait | wc -l'])).stdout.trim()) - 1;
        sustained.push({ kind, rps: rpsRuns, podTimeWait, synRetrans: (await synRetrans()) - s0 });
        process.stderr.write(`${mode} sustained (${kind}): ${rpsRuns.map((x) => x.toFixed(0)).join(', ')} requests/s\n`);
      } finally {
        await oldMasquerade(false, vip, plan.podCIDR);
      }
    }

    // Network programming latency.
    const latPod = await createPod(bridge, 'klb47-lat', 'klb47lat', LAT);
    pods.push(latPod);
    const latProc = spawn('ip', ['netns', 'exec', 'klb47-lat', o.serverBinary, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => latProc.stdout!.once('data', resolve));
    try {
      const latVip = await createObjects(server, 'lat', LAT, false);
      await local(latVip);
      await until(async () => (await connects(latVip, 80, 500)) === 'refused', 10_000, 'the latency VIP to refuse');
      const up: number[] = [];
      const down: number[] = [];
      for (let i = 0; i < o.iterations + 5; i++) {
        let t0 = performance.now();
        await setPod(server, 'lat', LAT, true);
        const u = await waitConnect(latVip, true, t0);
        await new Promise((r) => setTimeout(r, 20));
        t0 = performance.now();
        await setPod(server, 'lat', LAT, false);
        const d = await waitConnect(latVip, false, t0);
        await new Promise((r) => setTimeout(r, 20));
        // The first few warm up the JIT and the caches.
        if (i >= 5) {
          up.push(u);
          down.push(d);
        }
      }
      return { mode, sustained, throughput, up, down, stats: await proxyStats(server), timeWaitAfterRun };
    } finally {
      latProc.kill('SIGKILL');
    }
  } finally {
    srvProc?.kill('SIGKILL');
    await srvPod?.remove();
    for (const p of pods) await p?.remove();
    await oldMasquerade(false, '', '').catch(() => undefined);
    await finish(plan, server);
    await network?.remove().catch(() => undefined);
  }
}
