// The Services suite, end to end on a real server with a real data plane, run once per proxy mode by
// services.test.ts (the default mode, nftables where it works; slot 4) and services-iptables.test.ts
// (--proxy-mode iptables; slot 21), so CI covers both. The data plane is isolated from Docker: the
// agent is disabled and "Pods" are network namespaces on the instance's own pod bridge (kl0-t<slot>, as
// the agent would name it), whose Pod objects get their IP and Ready condition through the status
// subresource. Everything else is the real thing: the allocators, the Endpoints controller, the
// LoadBalancer controller, the proxier in the server, `kubelite cleanup`.
// Every address contacted is checked with assertLocalRoute first.

import test from 'ava';
import fs from 'node:fs';
import type { Endpoints, Pod, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { isStatusError } from '../../src/api/errors.js';
import { hostNames } from '../../src/config.js';
import { exec, execOk } from '../../src/util/exec.js';
import { cleanupInstance as cleanupHost } from '../../src/main/cleanup.js';
import { cleanupInstance, runCli, slotConfig, startTestServer, waitFor, type TestServer, waitForServiceRoute } from '../helpers/server.js';
import { dataplaneText, dnatTargets, iptablesSaveText, metricRe, nftTableText, vipProgrammed, type ProxyMode } from '../helpers/dataplane.js';
import { nftTableName } from '../../src/netfilter/nft-names.js';
import { nftBinary } from '../../src/netfilter/nft.js';

/** waitFor, typed for the truthy value it resolves with. */
function until<T>(fn: () => Promise<T | undefined | null | false | '' | 0>, timeoutMs?: number, what?: string, intervalMs?: number): Promise<T> {
  return waitFor(fn, timeoutMs, what, intervalMs) as Promise<T>;
}
import { assertLocalRoute, createBridge, createPod, hostUplinkAddress, type FakePod, type TestBridge, localGet, localGetMany } from '../helpers/netns.js';

export interface SuiteOptions {
  slot: number;
  mode: ProxyMode;
  /** Pass --proxy-mode (else the server picks its default, which must come out as `mode`). */
  explicitMode: boolean;
}

export function servicesSuite({ slot: SLOT, mode, explicitMode }: SuiteOptions): void {
const slot = slotConfig(SLOT);
const names = hostNames({ instance: slot.instance });
const net = `10.200.${SLOT}`;
const GATEWAY = `${net}.1`;
const NODE_PORT = slot.nodePortRange[0] + 7;
const LB_PORT = slot.nodePortRange[0] + 80; // a LoadBalancer on the node address shadows this port there
const DISABLED = ['--disable', 'agent,scheduler,controllers,dns,ingress', '--resync-period', '3', ...(explicitMode ? ['--proxy-mode', mode] : [])];
const esc = (x: string) => x.replace(/\./g, '\\.');

let server: TestServer | undefined;
let bridge: TestBridge | undefined;
let hostIP = '';
const pods: Record<string, FakePod> = {};
const hostIfs: Record<string, string> = {};

function srv(): TestServer {
  if (!server) throw new Error('server not started');
  return server;
}

const hostGet = (addr: string, port: number, timeoutMs?: number) => localGet(addr, port, { timeoutMs });
const hostGetMany = (addr: string, port: number, n: number) => localGetMany(addr, port, n);

/** `n` requests from inside a fake Pod, each on its own connection (curl URL globbing + Connection: close). */
async function podGetMany(pod: FakePod, addr: string, port: number, n: number): Promise<Map<string, number>> {
  await assertLocalRoute(addr);
  const r = await pod.run('curl', ['-sS', '--max-time', '3', '-H', 'Connection: close', '-w', '\n', `http://${addr}:${port}/?[1-${n}]`], 60_000);
  const counts = new Map<string, number>();
  for (const line of r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
  if (r.code !== 0) counts.set(`error:${r.stderr.trim().split('\n').at(-1)}`, 1);
  return counts;
}

/** Has Docker create (and remove) a network, which puts its jump to DOCKER-USER first in FORWARD. */
async function dockerUserOnTop(): Promise<void> {
  const name = `kl-${slot.instance}-reorder`;
  await exec('docker', ['network', 'rm', name]);
  await execOk('docker', ['network', 'create', '--internal', name]);
  await execOk('docker', ['network', 'rm', name]);
  const forward = (await execOk('iptables', ['-w', '-S', 'FORWARD'])).stdout.split('\n').filter((l) => l.startsWith('-A '));
  if (forward[0] !== '-A FORWARD -j DOCKER-USER') throw new Error(`DOCKER-USER is not first in FORWARD:\n${forward.join('\n')}`);
}

function podObject(name: string, labels: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: {
      nodeName: 'fake-node',
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'echo', image: 'kubelite/echo:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    },
  };
}

async function setPodStatus(name: string, ip: string, ready: boolean): Promise<void> {
  const p = await srv().client.get<Pod>(R.pods, 'default', name);
  p.status = {
    phase: 'Running',
    podIP: ip,
    podIPs: [{ ip }],
    conditions: [
      { type: 'Ready', status: ready ? 'True' : 'False' },
      { type: 'ContainersReady', status: ready ? 'True' : 'False' },
    ],
  };
  await srv().client.update(R.pods, p, { subresource: 'status' });
}

async function readyAddresses(name: string): Promise<string[]> {
  try {
    const ep = await srv().client.get<Endpoints>(R.endpoints, 'default', name);
    return (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return [];
    throw err;
  }
}

async function service(name: string): Promise<Service> {
  return srv().client.get<Service>(R.services, 'default', name);
}

const saveText = iptablesSaveText;
const targets = (servicePort: string) => dnatTargets(mode, names, servicePort);

const FAKE = {
  e1: `${net}.11`,
  e2: `${net}.12`,
  e3: `${net}.13`,
  client: `${net}.20`,
};

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the services integration tests need root (iptables, ip netns)');
  await cleanupHost({ names, serviceCIDR: slot.serviceCIDR, lbPool: slot.lbPool });
  hostIP = (await hostUplinkAddress()) ?? '';
  if (!hostIP) throw new Error('no uplink address: the NodePort and LoadBalancer tests need one');
  // The agent would create this bridge through Docker; here it is ours, so the data plane stands alone.
  bridge = await createBridge(names.podBridge, `${GATEWAY}/24`);
  for (const [n, ip] of Object.entries(FAKE)) {
    hostIfs[n] = `klt${SLOT}${n}`;
    // Hairpin off, as Docker leaves it: the proxy component must turn it on.
    pods[n] = await createPod(bridge, `klt${SLOT}-${n}`, hostIfs[n], ip, { hairpin: false });
  }
  for (const n of ['e1', 'e2', 'e3']) await pods[n].serveHttp(8080, `${n}\n`);
  server = await startTestServer({ slot: SLOT, args: DISABLED });
  await waitForServiceRoute(slot);
  for (const n of ['e1', 'e2', 'e3']) {
    await srv().client.create(R.pods, podObject(n, n === 'e1' ? { app: 'echo', self: 'yes' } : { app: 'echo' }));
    await setPodStatus(n, FAKE[n as 'e1'], true);
  }
});

test.after.always(async () => {
  await server?.stop();
  for (const p of Object.values(pods)) await p.remove();
  cleanupInstance(server);
  await cleanupHost({ names, serviceCIDR: slot.serviceCIDR, lbPool: slot.lbPool });
  await bridge?.remove();
});

let vip = '';

test.serial(`the server runs the ${mode} data plane, and nothing of the other mode`, async (t) => {
  const table = await nftTableText(names);
  const nat = await saveText('nat');
  const filter = await saveText('filter');
  if (mode === 'nftables') {
    t.regex(table, new RegExp(`^table ip ${nftTableName(names)} \\{`, 'm'));
    // The pod network's own two chains (src/podnet/rules.ts: Pod-to-Pod across nodes) are iptables in
    // both modes; nothing of the proxy's is.
    const ours = (text: string) => [...new Set(text.split('\n').filter((l) => l.startsWith(`:${names.chainPrefix}-`) && !l.startsWith(`:${names.chainPrefix}-PODNET`)).map((l) => l.split(' ')[0]))];
    t.deepEqual(ours(nat), [], 'no iptables NAT chain of the proxy of this instance');
    // Only the forward accept chain stays in iptables: Docker's FORWARD policy drops forwarded traffic.
    t.deepEqual(ours(filter), [`:${names.chainPrefix}-FORWARD`]);
  } else {
    t.is(table, '');
    t.true(nat.includes(`:${names.chainPrefix}-SERVICES `));
  }
  t.regex((await srv().client.raw('GET', '/metrics')).body.toString(), metricRe('kubelite_proxy_sync_duration_seconds_count', mode));
});

test.serial('ClusterIP: 3 Pods behind the VIP, every one answers from the host and from another Pod', async (t) => {
  await srv().client.create(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'default' },
    spec: { selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  } as Service);
  vip = (await service('echo')).spec.clusterIP!;
  t.regex(vip, new RegExp(`^10\\.201\\.${SLOT}\\.\\d+$`));
  await until(async () => (await readyAddresses('echo')).length === 3, 10_000, '3 endpoints');
  const fromHost = await until(async () => {
    const c = await hostGetMany(vip, 80, 60);
    return ['e1', 'e2', 'e3'].every((n) => (c.get(n) ?? 0) > 0) ? c : undefined;
  }, 15_000, 'every pod answering from the host');
  t.is([...fromHost.values()].reduce((a, b) => a + b, 0), 60);
  const fromPod = await podGetMany(pods.client, vip, 80, 60);
  for (const n of ['e1', 'e2', 'e3']) t.true((fromPod.get(n) ?? 0) > 0, `${n} answered a Pod: ${JSON.stringify([...fromPod])}`);
  t.is([...fromPod.keys()].filter((k) => k.startsWith('error')).length, 0, JSON.stringify([...fromPod]));
});

test.serial('get svc / get ep / describe svc show the Service and its endpoints', async (t) => {
  const get = await srv().cli(['get', 'svc', 'echo']);
  t.is(get.code, 0, get.stderr);
  t.regex(get.stdout, new RegExp(`^echo\\s+ClusterIP\\s+${vip.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP\\s+\\d+s$`, 'm'));
  const ep = await srv().cli(['get', 'ep', 'echo']);
  t.regex(ep.stdout.split('\n')[0], /^NAME\s+ENDPOINTS\s+AGE$/);
  t.regex(ep.stdout, new RegExp(`^echo\\s+${esc(FAKE.e1)}:8080,${esc(FAKE.e2)}:8080,${esc(FAKE.e3)}:8080\\s+\\d+s$`, 'm'));
  const desc = await srv().cli(['describe', 'svc', 'echo']);
  t.regex(desc.stdout, new RegExp(`Endpoints:\\s+${esc(FAKE.e1)}:8080,${esc(FAKE.e2)}:8080,${esc(FAKE.e3)}:8080`));
  const slices = await srv().cli(['get', 'endpointslices']);
  t.regex(slices.stdout, new RegExp(`^echo-[0-9a-f]{5}\\s+IPv4\\s+8080\\s+${esc(FAKE.e1)},${esc(FAKE.e2)},${esc(FAKE.e3)}\\s+\\d+s$`, 'm'));
});

test.serial('a Pod reaches itself through its own Service (hairpin mode set on the bridge port)', async (t) => {
  await srv().client.create(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'self', namespace: 'default' },
    spec: { selector: { self: 'yes' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  } as Service);
  const selfVip = (await service('self')).spec.clusterIP!;
  await until(async () => (await readyAddresses('self')).length === 1, 10_000, 'self endpoint');
  await until(async () => fs.readFileSync(`/sys/class/net/${names.podBridge}/brif/${hostIfs.e1}/hairpin_mode`, 'utf8').trim() === '1', 15_000, 'hairpin on');
  const r = await until(async () => {
    const c = await podGetMany(pods.e1, selfVip, 80, 3);
    return c.get('e1') === 3 ? c : undefined;
  }, 10_000, 'e1 reaching itself');
  t.is(r.get('e1'), 3);
});

test.serial('NodePort answers on the host address', async (t) => {
  await srv().client.create(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo-np', namespace: 'default' },
    spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: NODE_PORT }] },
  } as Service);
  t.is((await service('echo-np')).spec.ports![0].nodePort, NODE_PORT);
  await until(async () => (await readyAddresses('echo-np')).length === 3, 10_000, 'endpoints');
  const counts = await until(async () => {
    const c = await hostGetMany(hostIP, NODE_PORT, 30);
    return ['e1', 'e2', 'e3'].every((n) => (c.get(n) ?? 0) > 0) ? c : undefined;
  }, 15_000, 'node port answering');
  t.is([...counts.values()].reduce((a, b) => a + b, 0), 30);
  // And from a Pod, to the host's address.
  const fromPod = await podGetMany(pods.client, hostIP, NODE_PORT, 6);
  t.is([...fromPod.keys()].filter((k) => k.startsWith('error')).length, 0, JSON.stringify([...fromPod]));
});

test.serial('LoadBalancer without a pool gets the node address and answers there', async (t) => {
  await srv().client.create(R.services, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo-lb', namespace: 'default' },
    spec: { type: 'LoadBalancer', selector: { app: 'echo' }, ports: [{ name: 'http', port: LB_PORT, targetPort: 'http' }] },
  } as Service);
  const lb = await until(async () => {
    const s = await service('echo-lb');
    return s.status?.loadBalancer?.ingress?.length ? s : undefined;
  }, 10_000, 'ingress');
  t.deepEqual(lb.status?.loadBalancer?.ingress, [{ ip: hostIP, ipMode: 'VIP' }]);
  t.truthy(lb.spec.ports![0].nodePort);
  const body = await until(async () => {
    const b = await hostGet(hostIP, LB_PORT);
    return /^e[123]$/.test(b) && b;
  }, 10_000, 'LB answering');
  t.regex(body, /^e[123]$/);
  const get = await srv().cli(['get', 'svc', 'echo-lb']);
  t.regex(get.stdout, new RegExp(`^echo-lb\\s+LoadBalancer\\s+\\S+\\s+${hostIP.replace(/\./g, '\\.')}\\s+${LB_PORT}:\\d+/TCP`, 'm'));
});

test.serial('ExternalName: no VIP, no rules', async (t) => {
  await srv().client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'stripe', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'api.stripe.com' } } as Service);
  const s = await service('stripe');
  t.is(s.spec.clusterIP, undefined);
  // A later Service's rules prove the proxier has synced since.
  await srv().client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'marker', namespace: 'default' }, spec: { selector: { app: 'none' }, ports: [{ port: 81 }] } } as Service);
  const marker = (await service('marker')).spec.clusterIP!;
  await until(async () => vipProgrammed(mode, names, marker, 81), 10_000, 'marker rules');
  const programmed = await dataplaneText(mode, names);
  t.true(programmed.includes('default/marker') || mode === 'nftables', 'iptables comments name the Service');
  t.false(programmed.includes('default/stripe'));
  t.regex((await srv().cli(['get', 'svc', 'stripe'])).stdout, /^stripe\s+ExternalName\s+<none>\s+api\.stripe\.com\s+<none>/m);
});

test.serial('a selector matching nothing: the Service exists, no endpoints, connection refused, describe says so', async (t) => {
  const marker = (await service('marker')).spec.clusterIP!;
  t.deepEqual(await readyAddresses('marker'), []);
  const ep = await srv().client.get<Endpoints>(R.endpoints, 'default', 'marker');
  t.is(ep.subsets, undefined);
  t.is(await hostGet(marker, 81), 'error:ECONNREFUSED');
  // Docker moves its jump to DOCKER-USER back to the top of FORWARD whenever it creates a network (a
  // user's `docker network create`, another kubelite's agent): the pod network's accept in DOCKER-USER
  // then comes before the proxier's jumps, and must still leave a VIP without endpoints to their reject.
  await dockerUserOnTop();
  const fromPod = await podGetMany(pods.client, marker, 81, 1);
  t.true([...fromPod.keys()].some((k) => /refused|Couldn't connect/i.test(k)), JSON.stringify([...fromPod]));
  const desc = await srv().cli(['describe', 'svc', 'marker']);
  t.regex(desc.stdout, /Endpoints:\s+<none> \(no Ready Pods match the selector\)/);
  t.regex((await srv().cli(['get', 'ep', 'marker'])).stdout, /^marker\s+<none>\s+\d+s$/m);
});

test.serial('bad input is refused with clear errors and leaves the ruleset intact', async (t) => {
  const create = (name: string, spec: Record<string, unknown>) =>
    srv().client.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec } as unknown as Service).then(
      () => 'created',
      (err) => (isStatusError(err) ? err.status.message! : String(err)),
    );
  const lo = slot.nodePortRange[0];
  const hi = slot.nodePortRange[1];
  t.is(
    await create('np-out', { type: 'NodePort', selector: { app: 'echo' }, ports: [{ port: 80, nodePort: hi + 100 }] }),
    `Service "np-out" is invalid: spec.ports[0].nodePort: Invalid value: ${hi + 100}: provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
  );
  t.is(
    await create('np-taken', { type: 'NodePort', selector: { app: 'echo' }, ports: [{ port: 80, nodePort: NODE_PORT }] }),
    `Service "np-taken" is invalid: spec.ports[0].nodePort: Invalid value: ${NODE_PORT}: provided port is already allocated`,
  );
  t.is(
    await create('ip-out', { selector: { app: 'echo' }, clusterIP: '10.96.0.50', ports: [{ port: 80 }] }),
    `Service "ip-out" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.50": provided IP is not in the valid range. The range of valid IPs is ${slot.serviceCIDR}`,
  );
  t.is(await create('ip-taken', { selector: { app: 'echo' }, clusterIP: vip, ports: [{ port: 80 }] }), `Service "ip-taken" is invalid: spec.clusterIPs[0]: Invalid value: "${vip}": provided IP is already allocated`);
  t.regex(await create('sctp', { selector: { app: 'echo' }, ports: [{ port: 80, protocol: 'SCTP' }] }), /spec\.ports\[0\]\.protocol: Unsupported value: "SCTP"/);
  t.regex(await create('bigport', { selector: { app: 'echo' }, ports: [{ port: 70000 }] }), /spec\.ports\[0\]\.port: Invalid value: 70000/);
  t.regex(await create('Bad_Name;rm', { selector: { app: 'echo' }, ports: [{ port: 80 }] }), /metadata\.name: Invalid value/);
  // The CLI prints the server's line.
  const cli = await srv().cli(['apply', '-f', '-'], `apiVersion: v1\nkind: Service\nmetadata:\n  name: np-cli\nspec:\n  type: NodePort\n  selector: {app: echo}\n  ports:\n  - port: 80\n    nodePort: ${NODE_PORT}\n`);
  t.is(cli.code, 1);
  t.regex(cli.stderr, new RegExp(`Error from server \\(Invalid\\).*spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${NODE_PORT}: provided port is already allocated`));
  // Nothing half-applied: the good Services still answer.
  t.regex(await hostGet(vip, 80), /^e[123]$/);
});

test.serial('a Pod that turns unready leaves the rotation at once and comes back when Ready', async (t) => {
  const t0 = Date.now();
  await setPodStatus('e3', FAKE.e3, false);
  await until(async () => !(await readyAddresses('echo')).includes(FAKE.e3), 5000, 'e3 out of the Endpoints', 5);
  const ms = Date.now() - t0;
  t.true(ms < 1000, `Endpoints took ${ms} ms`);
  // The rules follow the Endpoints (how fast is bench/services-latency.ts' business); then e3 never answers.
  await until(async () => (await targets('default/echo:http')).length === 2 && !(await targets('default/echo:http')).includes(FAKE.e3), 10_000, 'e3 out of the rules');
  const c = await hostGetMany(vip, 80, 30);
  t.is(c.get('e3') ?? 0, 0, JSON.stringify([...c]));
  t.is((c.get('e1') ?? 0) + (c.get('e2') ?? 0), 30);
  await setPodStatus('e3', FAKE.e3, true);
  await until(async () => (await hostGetMany(vip, 80, 20)).has('e3'), 10_000, 'e3 back');
  t.deepEqual(await readyAddresses('echo'), [FAKE.e1, FAKE.e2, FAKE.e3]);
});

test.serial('a terminating Pod leaves at once; a deleted Pod is out of rotation', async (t) => {
  // Graceful delete of a Pod bound to a node: it stays (no agent here) with a deletionTimestamp.
  await srv().client.delete(R.pods, 'default', 'e3', { gracePeriodSeconds: 30 });
  await until(async () => !(await readyAddresses('echo')).includes(FAKE.e3), 5000, 'terminating e3 out', 5);
  await srv().client.delete(R.pods, 'default', 'e2', { gracePeriodSeconds: 0 });
  await until(async () => (await readyAddresses('echo')).length === 1, 5000, 'e2 out', 5);
  await until(async () => (await targets('default/echo:http')).join() === FAKE.e1, 10_000, 'only e1 in the rules');
  const c = await hostGetMany(vip, 80, 20);
  t.deepEqual([...c], [['e1', 20]]);
});

test.serial('a hand-deleted rule and jump are back after the periodic resync', async (t) => {
  // --resync-period 3: back within a few seconds, without any API change.
  if (mode === 'iptables') {
    const chain = `${names.chainPrefix}-SERVICES`;
    const rules = (await execOk('iptables', ['-w', '-t', 'nat', '-S', chain])).stdout.split('\n').filter((l) => l.startsWith('-A '));
    const idx = rules.findIndex((l) => l.includes('default/echo:http cluster IP'));
    t.true(idx >= 0, rules.join('\n'));
    await execOk('iptables', ['-w', '-t', 'nat', '-D', chain, String(idx + 1)]);
    await execOk('iptables', ['-w', '-t', 'nat', '-D', 'OUTPUT', '-m', 'comment', '--comment', 'kubelite service portals', '-j', chain]);
    const dispatch = async () => (await saveText('nat')).split('\n').some((l) => l.startsWith(`-A ${chain} `) && l.includes('default/echo:http cluster IP'));
    // Both deletions succeeded (iptables -D fails when there is no such rule). No check that they are
    // gone now: the watchdog's fingerprint may see the damage and repair it before we could look.
    const t0 = Date.now();
    await until(dispatch, 10_000, 'rule repaired');
    await until(async () => (await execOk('iptables', ['-w', '-t', 'nat', '-S', 'OUTPUT'])).stdout.includes(`-j ${chain}`), 10_000, 'jump repaired');
    t.true(Date.now() - t0 < 10_000);
  } else {
    // The same damage in the nftables table: the VIP's map element and the output hook's jump.
    const table = nftTableName(names);
    await execOk(nftBinary(), ['delete', 'element', 'ip', table, 'service-ips', `{ ${vip} . tcp . 80 }`]);
    await execOk(nftBinary(), ['flush', 'chain', 'ip', table, 'nat-output']);
    const element = async () => (await nftTableText(names)).includes(`${vip} . tcp . 80 : goto `);
    const jump = async () => /chain nat-output \{\n[^}]*jump services/.test(await nftTableText(names));
    t.false(await element());
    t.false(await jump());
    // Neither change shows in the cheap chain-list fingerprint; the whole table is read back on a resync
    // at a rate bounded by its cost (100x the last listing's time, see nft-plane.ts), which a loaded
    // machine stretches: allow a few resyncs more than the iptables mode needs.
    await until(element, 30_000, 'element repaired');
    await until(jump, 30_000, 'jump repaired');
  }
  t.is(await hostGet(vip, 80), 'e1');
});

test.serial('metrics: sync duration, rules written, endpoints per service', async (t) => {
  const r = await srv().client.raw('GET', '/metrics');
  t.is(r.status, 200);
  const text = r.body.toString();
  t.regex(text, metricRe('kubelite_proxy_sync_duration_seconds_count', mode));
  t.regex(text, metricRe('kubelite_proxy_rules_written_total', mode));
  t.regex(text, metricRe('kubelite_proxy_sync_errors_total', mode));
  t.regex(text, new RegExp(`^kubelite_proxy_endpoints\\{service="default/echo:http",mode="${mode}"\\} 1$`, 'm'));
  // Only this mode's series: the server runs one data plane.
  t.notRegex(text, new RegExp(`mode="${mode === 'nftables' ? 'iptables' : 'nftables'}"`));
});

test.serial('scaling to zero gives connection refused, from the host and from a Pod', async (t) => {
  await srv().client.delete(R.pods, 'default', 'e1', { gracePeriodSeconds: 0 });
  await until(async () => (await readyAddresses('echo')).length === 0, 5000, 'no endpoints', 5);
  const b = await until(async () => {
    const x = await hostGet(vip, 80);
    return x === 'error:ECONNREFUSED' && x;
  }, 5000, 'refused');
  t.is(b, 'error:ECONNREFUSED');
  const fromPod = await podGetMany(pods.client, vip, 80, 1);
  t.true([...fromPod.keys()].some((k) => /refused|Couldn't connect/i.test(k)), JSON.stringify([...fromPod]));
});

test.serial('restart with --lb-pool: rules adopted, no address handed out twice, the LoadBalancer moves to a pool address', async (t) => {
  const before = (await srv().client.list<Service>(R.services)).items;
  const dataDir = srv().dataDir;
  await srv().stop();
  // Rules stay in force while the server is down.
  t.true(await vipProgrammed(mode, names, vip, 80));
  server = await startTestServer({ slot: SLOT, dataDir, args: [...DISABLED, '--lb-pool', slot.lbPool] });
  const after = (await srv().client.list<Service>(R.services)).items;
  t.deepEqual(
    after.map((s) => [s.metadata.name, s.spec.clusterIP]).sort(),
    before.map((s) => [s.metadata.name, s.spec.clusterIP]).sort(),
  );
  const lb = await until(async () => {
    const s = await service('echo-lb');
    const ip = s.status?.loadBalancer?.ingress?.[0]?.ip;
    return ip && ip.startsWith(`10.202.${SLOT}.`) && ip;
  }, 10_000, 'pool address');
  // A fresh Pod behind the LB: traffic to the pool address on the service port.
  await srv().client.create(R.pods, podObject('e2', { app: 'echo' }));
  await setPodStatus('e2', FAKE.e2, true);
  const route = await until(async () => {
    const r = await assertLocalRoute(lb);
    return r.type === 'local' && r;
  }, 10_000, 'pool address local');
  t.is(route.type, 'local');
  const body = await until(async () => {
    const x = await hostGet(lb, LB_PORT);
    return x === 'e2' && x;
  }, 10_000, 'pool address answering');
  t.is(body, 'e2');
  // New Services never get an address or port a stored one holds.
  const taken = new Set(after.map((s) => s.spec.clusterIP).filter(Boolean));
  for (let i = 0; i < 5; i++) {
    const s = await srv().client.create<Service>(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: `fresh${i}`, namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] } } as Service);
    t.false(taken.has(s.spec.clusterIP), `${s.spec.clusterIP} handed out twice`);
    t.not(s.spec.ports![0].nodePort, NODE_PORT);
    taken.add(s.spec.clusterIP);
  }
});

test.serial('kubelite cleanup leaves no chain, rule, route or device behind', async (t) => {
  await srv().stop();
  const run = () => runCli(srv().kubeconfig, ['cleanup', '--instance', slot.instance, '--service-cidr', slot.serviceCIDR, '--lb-pool', slot.lbPool]);
  const first = await run();
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /removed \d+ iptables chain\(s\) and \d+ jump rule\(s\)/);
  t.regex(first.stdout, new RegExp(`removed device ${names.serviceDevice}`));
  t.regex(first.stdout, new RegExp(`removed bridge ${names.podBridge}`));
  if (mode === 'nftables') t.regex(first.stdout, new RegExp(`removed nftables table ip ${nftTableName(names)}`));
  t.is(await nftTableText(names), '', 'no nftables table left');
  for (const table of ['nat', 'filter'] as const) {
    const text = await saveText(table);
    t.false(text.includes(`${names.chainPrefix}-`), `${table} still has ${names.chainPrefix} chains`);
    t.false(new RegExp(`\\b${names.shortChainPrefix}-(SVC|SEP|EXT|SVL)-`).test(text), `${table} still has per-service chains`);
  }
  const routes = (await execOk('ip', ['-4', 'route', 'show'])).stdout;
  t.false(routes.includes(slot.serviceCIDR));
  t.false(routes.includes(slot.lbPool));
  t.not((await exec('ip', ['link', 'show', 'dev', names.serviceDevice])).code, 0);
  t.not((await exec('ip', ['link', 'show', 'dev', names.podBridge])).code, 0);
  bridge = undefined;
  const second = await run();
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, new RegExp(`nothing to clean up for instance ${slot.instance}`));
});
}
