// (c) Requests/s and p99 latency through a Service VIP vs straight to a Pod IP, same run: wrk in a
// client Pod's network namespace against kubelite/echo's static busybox httpd (port 8081), which closes
// every connection, so each request is a new connection and pays the VIP's DNAT (the worst case for
// the data plane). Two identical server Pods, one per path, so neither path's TIME_WAIT sockets meet
// the other's; runs alternate so load from elsewhere on the host hits both alike. One run of each from
// the host too (masqueraded, see the note it prints).
//   npm run build && node --import tsx bench/services-throughput.ts [seconds per run] [rounds]

import { execFile } from 'node:child_process';
import os from 'node:os';
import type { Deployment, Pod, Service } from '../src/api/types.js';
import { R } from '../src/api/resources.js';
import { LABELS } from '../src/agent/labels.js';
import Dockerode from 'dockerode';
import { median, writeSection, type BenchServer } from './lib.js';
import { echoContainer, finish, get, isReady, local, readyAddresses, servicePlan, startServiceBench, until } from './services-common.js';

const SECONDS = Number(process.argv[2] ?? 8);
const ROUNDS = Number(process.argv[3] ?? 3);
const CONNECTIONS = 8;
const plan = servicePlan(47, ['dns', 'ingress']);
const docker = new Dockerode();

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
}

function ms(v: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** wrk from the host, or from inside a Pod's network namespace when `netnsPid` (its infra container's PID) is given. */
function wrk(url: string, netnsPid?: number): Promise<WrkResult> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', url];
  const [cmd, argv] = netnsPid ? ['nsenter', [`--net=/proc/${netnsPid}/ns/net`, 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: (SECONDS + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`${cmd} ${argv.join(' ')}: ${err.message}`));
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
      const p50 = ms(/^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
      const p99 = ms(/^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '');
      const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
      // busybox httpd closes each connection after the reply; wrk counts some of those closes as read errors, which are not failed requests.
      const errors = non2xx + (se ? Number(se[1]) + Number(se[4]) : 0);
      resolve({ rps, p50, p99, errors, requests });
    });
  });
}

let server: BenchServer | undefined;
try {
  server = await startServiceBench(plan);
  // Two identical single-Pod Deployments, one per path: the host's masquerade picks random source ports,
  // and a port that meets a TIME_WAIT socket left by the other path's connections costs that SYN a 1 s
  // retransmit, which would make the paths measure each other.
  for (const name of ['tp-direct', 'tp-vip', 'tp-client']) {
    await server.client.create(R.deployments, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'default' },
      spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [echoContainer()] } } },
    } as Deployment);
  }
  const svc = await server.client.create<Service>(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'tp', namespace: 'default' },
    spec: { selector: { app: 'tp-vip' }, ports: [{ name: 'static', port: 80, targetPort: 'static' }] },
  } as Service);
  const vip = svc.spec.clusterIP!;
  const pod = await until(async () => (await server!.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=tp-direct' })).items.find(isReady), 120_000, 'the direct Pod ready');
  const podIP = pod.status!.podIP!;
  await until(async () => (await readyAddresses(server!, 'tp')).length === 1, 120_000, 'the endpoint');
  await local(vip);
  await local(podIP);
  await until(async () => !(await get(vip, 80, '/static')).startsWith('error'), 30_000, 'the VIP answering');
  // The client runs in a Pod's network namespace (its infra container's), as App A calling App B would.
  const client = await until(async () => (await server!.client.list<Pod>(R.pods, { namespace: 'default', labelSelector: 'app=tp-client' })).items.find(isReady), 120_000, 'the client Pod ready');
  const infra = (await docker.listContainers({ filters: { label: [`${LABELS.instance}=${plan.instance}`, `${LABELS.podUid}=${client.metadata.uid}`, `${LABELS.role}=infra`] } }))[0];
  const netnsPid = (await docker.getContainer(infra.Id).inspect()).State.Pid;
  if (!netnsPid) throw new Error('the client Pod has no running infra container');
  // wrk closes first, so each request leaves a TIME_WAIT socket in the client: with 28,000 ephemeral ports that caps a
  // client at ~470 new connections/s. Let this client Pod (its own network namespace only) reuse them, as busy clients do.
  await new Promise<void>((resolve, reject) =>
    execFile('nsenter', [`--net=/proc/${netnsPid}/ns/net`, 'sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=1'], (err) => (err ? reject(err) : resolve())),
  );
  const direct: WrkResult[] = [];
  const viaVip: WrkResult[] = [];
  await wrk(`http://${podIP}:8081/static`, netnsPid); // warm-ups
  await wrk(`http://${vip}:80/static`, netnsPid);
  for (let i = 0; i < ROUNDS; i++) {
    direct.push(await wrk(`http://${podIP}:8081/static`, netnsPid));
    viaVip.push(await wrk(`http://${vip}:80/static`, netnsPid));
    process.stderr.write(`round ${i + 1} (from a Pod): direct ${direct[i].rps.toFixed(0)}/s, VIP ${viaVip[i].rps.toFixed(0)}/s\n`);
  }
  // From the host the VIP path is masqueraded (as kube-proxy does), with random source ports; see the note below.
  const hostDirect = await wrk(`http://${podIP}:8081/static`);
  const hostVip = await wrk(`http://${vip}:80/static`);
  const m = (rs: WrkResult[], f: (r: WrkResult) => number) => median(rs.map(f));
  const row = (label: string, rs: WrkResult[]) =>
    `| ${label} | ${m(rs, (r) => r.rps).toFixed(0)} | ${m(rs, (r) => r.p50).toFixed(2)} ms | ${m(rs, (r) => r.p99).toFixed(2)} ms | ${rs.reduce((a, r) => a + r.errors, 0)} of ${rs.reduce((a, r) => a + r.requests, 0)} |`;
  const ratio = m(viaVip, (r) => r.rps) / m(direct, (r) => r.rps);
  writeSection(
    'services-throughput',
    'Throughput through a Service VIP vs straight to the Pod (issue #4, bench c)',
    `npm run build && node --import tsx bench/services-throughput.ts ${SECONDS} ${ROUNDS}`,
    [
      `\`wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --latency\`, run in a client Pod's network namespace (nsenter), against kubelite/echo's`,
      `static busybox httpd (GET /static, a new connection per request since httpd closes each one): one Pod straight on its IP,`,
      `an identical Pod of a second Deployment through its Service VIP; ${ROUNDS} alternating rounds, medians.`,
      '',
      '| path | requests/s | p50 | p99 | failed |',
      '|---|---|---|---|---|',
      row(`from a Pod, to the Pod IP ${podIP}:8081`, direct),
      row(`from a Pod, to the VIP ${vip}:80 (DNAT to the other Pod)`, viaVip),
      row('from the host, to the Pod IP (one run)', [hostDirect]),
      row('from the host, to the VIP (one run; masqueraded)', [hostVip]),
      '',
      `VIP / direct requests/s from a Pod: **${ratio.toFixed(3)}** (target >= 0.95: ${ratio >= 0.95 ? 'met' : 'missed'}).`,
      '',
      'Traffic from the host to a VIP is masqueraded (as kube-proxy does) with random source ports. The server closes',
      'every connection, so each one leaves a TIME_WAIT socket in the Pod; a masqueraded SYN that lands on one of them',
      'with an unrelated sequence number waits for a 1 s retransmit. At thousands of new connections per second from',
      'the host to one Pod the VIP path therefore slows down as TIME_WAIT sockets pile up (it is fine from Pods, which',
      'are not masqueraded, and for keep-alive clients).',
      `Host load average ${os.loadavg()[0].toFixed(1)} (1 min) at the end: other work shares the 2 cores.`,
    ].join('\n'),
  );
} finally {
  await finish(plan, server);
}
