// The proxier on real iptables (root, no Docker needed): fake Pods are network namespaces on a test
// bridge running busybox httpd. Instance `nft1`, pod CIDR 10.250.0.0/24, service CIDR 10.250.128.0/24,
// LB pool 10.250.129.0/24: nothing here collides with other test files or the default instance.
// Every address contacted is checked with assertLocalRoute first.

import test from 'ava';
import dgram from 'node:dgram';
import client from 'prom-client';
import type { Endpoints, EndpointSubset, Service, ServiceSpec } from '../../src/api/types.js';
import { hostNames } from '../../src/config.js';
import { exec, execOk } from '../../src/util/exec.js';
import { cleanupNetfilter } from '../../src/netfilter/cleanup.js';
import { Proxier } from '../../src/netfilter/proxier.js';
import { readDevice } from '../../src/netfilter/device.js';
import { assertLocalRoute, createBridge, createPod, hostUplinkAddress, type FakePod, type TestBridge, localGet } from '../helpers/netns.js';

const names = hostNames({ instance: 'nft1' });
const POD_CIDR = '10.250.0.0/24';
const SERVICE_CIDR = '10.250.128.0/24';
const LB_POOL = '10.250.129.0/24';
const BRIDGE = 'klnft1br';
const GATEWAY = '10.250.0.1';
const LB_IP = '10.250.129.10';
const NODE_PORT = 30880;

const VIP = {
  web: '10.250.128.10',
  self: '10.250.128.11',
  node: '10.250.128.12',
  lb: '10.250.128.13',
  idle: '10.250.128.14',
  sticky: '10.250.128.15',
  udp: '10.250.128.16',
};

let bridge: TestBridge | undefined;
const pods: Record<string, FakePod> = {};
let proxier: Proxier | undefined;
let hostIP: string;
const logs: string[] = [];

function svc(name: string, spec: ServiceSpec, lbIPs?: string[]): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'nft', name }, spec };
  if (lbIPs) s.status = { loadBalancer: { ingress: lbIPs.map((ip) => ({ ip })) } };
  return s;
}
function eps(name: string, ips: string[], port = 8080, portName = 'http', protocol: 'TCP' | 'UDP' = 'TCP'): Endpoints {
  const subsets: EndpointSubset[] = ips.length ? [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: portName, port, protocol }] }] : [];
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'nft', name }, subsets };
}

const hostGet = (addr: string, port: number, timeoutMs?: number) => localGet(addr, port, { timeoutMs });

async function podGet(pod: FakePod, addr: string, port: number): Promise<string> {
  await assertLocalRoute(addr);
  const r = await pod.run('curl', ['-sS', '--max-time', '3', `http://${addr}:${port}/`]);
  return r.code === 0 ? r.stdout.trim() : `error:${r.stderr.trim()}`;
}

async function udpAsk(addr: string, port: number, localPort: number): Promise<string> {
  await assertLocalRoute(addr);
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => sock.bind(localPort, resolve));
    return await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 1500);
      sock.once('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString());
      });
      sock.send('hi', port, addr);
    });
  } finally {
    sock.close();
  }
}

async function saveText(table: 'nat' | 'filter'): Promise<string> {
  return (await execOk('iptables-save', ['-t', table])).stdout;
}

function allServices(): Service[] {
  return [
    svc('web', { clusterIP: VIP.web, ports: [{ name: 'http', port: 80 }] }),
    svc('self', { clusterIP: VIP.self, ports: [{ name: 'http', port: 80 }] }),
    svc('node', { type: 'NodePort', clusterIP: VIP.node, ports: [{ name: 'http', port: 80, nodePort: NODE_PORT }] }),
    svc('lb', { type: 'LoadBalancer', clusterIP: VIP.lb, ports: [{ name: 'http', port: 80, nodePort: NODE_PORT + 1 }] }, [LB_IP]),
    svc('idle', { type: 'NodePort', clusterIP: VIP.idle, ports: [{ name: 'http', port: 80, nodePort: NODE_PORT + 2 }] }),
    svc('sticky', { clusterIP: VIP.sticky, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'http', port: 80 }] }),
    svc('udp', { clusterIP: VIP.udp, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
  ];
}

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the netfilter integration tests need root (iptables, ip netns)');
  await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL });
  // A UDP flow a previous run left to our VIP would still be NATed to that run's endpoint.
  await exec('conntrack', ['-D', '-p', 'udp', '--orig-dst', VIP.udp]);
  hostIP = (await hostUplinkAddress()) ?? '';
  bridge = await createBridge(BRIDGE, `${GATEWAY}/24`);
  const specs: [string, string][] = [
    ['p1', '10.250.0.11'],
    ['p2', '10.250.0.12'],
    ['p3', '10.250.0.13'],
    ['client', '10.250.0.20'],
  ];
  for (const [n, ip] of specs) pods[n] = await createPod(bridge, `klnft1-${n}`, `klnft1${n}`, ip);
  for (const n of ['p1', 'p2', 'p3']) await pods[n].serveHttp(8080, `${n}\n`);
  await pods.p1.serveUdp(5353, 'p1');
  await pods.p2.serveUdp(5353, 'p2');

  proxier = new Proxier({
    names,
    podCIDR: POD_CIDR,
    serviceCIDR: SERVICE_CIDR,
    nodeIPs: hostIP ? [hostIP] : [],
    lbPool: LB_POOL,
    resyncSchedule: '0 0 1 1 *', // the tests call fullResync themselves
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
  });
  proxier.setServices(allServices());
  proxier.setEndpoints([
    eps('web', ['10.250.0.11', '10.250.0.12', '10.250.0.13']),
    eps('self', ['10.250.0.11']),
    eps('node', ['10.250.0.12']),
    eps('lb', ['10.250.0.13']),
    eps('idle', []),
    eps('sticky', ['10.250.0.11', '10.250.0.12', '10.250.0.13']),
    eps('udp', ['10.250.0.11'], 5353, 'dns', 'UDP'),
  ]);
  const first = await proxier.start();
  if (!first.ok) throw first.error;
});

test.after.always(async () => {
  await proxier?.stop();
  for (const p of Object.values(pods)) await p.remove();
  await bridge?.remove();
  await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL });
});

test.serial('the service CIDR and LB pool are routed to the service device, with the pool address on it', async (t) => {
  const dev = await readDevice(names.serviceDevice);
  t.true(dev.exists && dev.up);
  t.deepEqual(dev.routes.sort(), [SERVICE_CIDR, LB_POOL].sort());
  t.deepEqual(dev.addresses, [LB_IP]);
  // An address no rule matches stays on the host.
  t.is((await assertLocalRoute('10.250.128.200')).dev, names.serviceDevice);
  t.is((await assertLocalRoute(LB_IP)).type, 'local');
});

test.serial('ClusterIP with 3 endpoints: every endpoint answers within 60 new connections, from the host and from a Pod', async (t) => {
  const fromHost = new Set<string>();
  for (let i = 0; i < 60 && fromHost.size < 3; i++) fromHost.add(await hostGet(VIP.web, 80));
  t.deepEqual([...fromHost].sort(), ['p1', 'p2', 'p3']);
  const fromPod = new Set<string>();
  for (let i = 0; i < 60 && fromPod.size < 3; i++) fromPod.add(await podGet(pods.client, VIP.web, 80));
  t.deepEqual([...fromPod].sort(), ['p1', 'p2', 'p3']);
});

test.serial('hairpin: a Pod reaches itself through its own Service', async (t) => {
  t.is(await podGet(pods.p1, VIP.self, 80), 'p1');
  t.is(await podGet(pods.p1, VIP.self, 80), 'p1');
  // Masqueraded: the reply tuple goes to the gateway, so p1 answered the host, not itself directly.
  const ct = await exec('conntrack', ['-L', '-p', 'tcp', '--orig-dst', VIP.self]);
  t.regex(ct.stdout, new RegExp(`src=10\\.250\\.0\\.11 dst=${VIP.self.replace(/\./g, '\\.')} .* src=10\\.250\\.0\\.11 dst=10\\.250\\.0\\.1 `));
});

test.serial('NodePort: on the host address from the host, and on the gateway address from a Pod', async (t) => {
  t.truthy(hostIP, 'the host has an uplink address');
  t.is((await assertLocalRoute(hostIP)).type, 'local');
  t.is(await hostGet(hostIP, NODE_PORT), 'p2');
  t.is(await podGet(pods.client, GATEWAY, NODE_PORT), 'p2');
  // The ClusterIP of the same Service works too.
  t.is(await hostGet(VIP.node, 80), 'p2');
});

test.serial('LoadBalancer: the pool address on the service port, from the host and from a Pod', async (t) => {
  t.is(await hostGet(LB_IP, 80), 'p3');
  t.is(await podGet(pods.client, LB_IP, 80), 'p3');
  t.is(await hostGet(hostIP, NODE_PORT + 1), 'p3');
});

test.serial('no ready endpoints: connection refused at once, on the VIP and the node port', async (t) => {
  for (const [addr, port] of [
    [VIP.idle, 80],
    [hostIP, NODE_PORT + 2],
  ] as [string, number][]) {
    const t0 = performance.now();
    const r = await hostGet(addr, port);
    const ms = performance.now() - t0;
    t.is(r, 'error:ECONNREFUSED', `${addr}:${port}`);
    t.true(ms < 1000, `refused after ${ms.toFixed(0)} ms`);
  }
  const t0 = performance.now();
  t.regex(await podGet(pods.client, VIP.idle, 80), /^error:curl: \(7\)/, 'curl exit 7: could not connect (refused), not 28 (timeout)');
  t.true(performance.now() - t0 < 1000);
});

test.serial('ClientIP affinity: one client keeps its endpoint', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 15; i++) seen.add(await hostGet(VIP.sticky, 80));
  t.is(seen.size, 1, [...seen].join(','));
});

test.serial('UDP: a removed endpoint loses its conntrack flows, so the same client flow moves to the new endpoint', async (t) => {
  t.is(await udpAsk(VIP.udp, 53, 40053), 'p1');
  t.is(await udpAsk(VIP.udp, 53, 40053), 'p1');
  proxier!.upsertEndpoints(eps('udp', ['10.250.0.12'], 5353, 'dns', 'UDP'));
  const r = await proxier!.waitForSync();
  t.true(r.ok);
  // Same source port: without the conntrack cleanup this flow would still go to p1's stale NAT entry.
  t.is(await udpAsk(VIP.udp, 53, 40053), 'p2');
});

test.serial('removing an endpoint takes it out of rotation at once', async (t) => {
  proxier!.upsertEndpoints(eps('web', ['10.250.0.11', '10.250.0.12']));
  const r = await proxier!.waitForSync();
  t.true(r.ok);
  t.is(r.chainsWritten, 1, 'only the SVC chain is rewritten');
  t.is(r.chainsDeleted, 1, 'the removed endpoint chain is deleted');
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) seen.add(await hostGet(VIP.web, 80));
  t.deepEqual([...seen].sort(), ['p1', 'p2']);
});

test.serial('what we write reads back identically: a full resync with no changes writes nothing', async (t) => {
  const r = await proxier!.fullResync();
  t.true(r.ok, r.error?.message);
  t.is(r.chainsWritten, 0);
  t.is(r.chainsDeleted, 0);
  // Every jump exactly once.
  const nat = await saveText('nat');
  const filter = await saveText('filter');
  for (const chain of ['PREROUTING', 'OUTPUT']) t.is(nat.split('\n').filter((l) => l === `-A ${chain} -m comment --comment "kubelite service portals" -j KUBELITE-NFT1-SERVICES`).length, 1);
  t.is(nat.split('\n').filter((l) => l.includes('-j KUBELITE-NFT1-POSTROUTING')).length, 1);
  t.is(filter.split('\n').filter((l) => l.startsWith('-A FORWARD') && l.includes('-j KUBELITE-NFT1-')).length, 2);
  t.is(filter.split('\n').filter((l) => l.includes('-j KUBELITE-NFT1-FORWARD')).length, 1);
});

test.serial('a rule deleted by hand is back after a full resync', async (t) => {
  const svcChain = proxier!.chains.servicePortChain('SVC', 'nft/node:http', 'TCP');
  await execOk('iptables', ['-w', '-t', 'nat', '-F', svcChain]);
  await execOk('iptables', ['-w', '-t', 'nat', '-D', 'PREROUTING', '-m', 'comment', '--comment', 'kubelite service portals', '-j', 'KUBELITE-NFT1-SERVICES']);
  await execOk('ip', ['route', 'del', SERVICE_CIDR, 'dev', names.serviceDevice]);
  // No traffic while broken: without the route, a VIP would leave by the uplink (assertLocalRoute says so).
  await t.throwsAsync(assertLocalRoute(VIP.node), { message: /would leave/ });
  const r = await proxier!.fullResync();
  t.true(r.ok, r.error?.message);
  t.is(r.chainsWritten, 1);
  t.true((await saveText('nat')).includes(`-A PREROUTING -m comment --comment "kubelite service portals" -j KUBELITE-NFT1-SERVICES`));
  t.is(await podGet(pods.client, VIP.node, 80), 'p2');
  t.is(await hostGet(VIP.node, 80), 'p2');
  t.true(logs.some((l) => l.includes('repaired')));
});

test.serial('metrics are exported on the default registry', async (t) => {
  const text = await client.register.metrics();
  t.regex(text, /kubelite_proxy_sync_duration_seconds_count\{mode="iptables"\} \d+/);
  t.regex(text, /kubelite_proxy_rules_written_total\{mode="iptables"\} [1-9]\d*/);
  t.regex(text, /kubelite_proxy_last_sync_timestamp_seconds\{mode="iptables"\} \d/);
  t.regex(text, /kubelite_proxy_endpoints\{service="nft\/web:http",mode="iptables"\} 2/);
  t.regex(text, /kubelite_proxy_endpoints\{service="nft\/idle:http",mode="iptables"\} 0/);
  t.regex(text, /kubelite_proxy_sync_errors_total\{mode="iptables"\} \d/);
});

test.serial('a restarted proxier adopts the rules in place: nothing rewritten, traffic keeps flowing', async (t) => {
  await proxier!.stop();
  const again = new Proxier({ names, podCIDR: POD_CIDR, serviceCIDR: SERVICE_CIDR, nodeIPs: hostIP ? [hostIP] : [], lbPool: LB_POOL, resyncSchedule: '0 0 1 1 *' });
  again.setServices(allServices());
  again.setEndpoints([
    eps('web', ['10.250.0.11', '10.250.0.12']),
    eps('self', ['10.250.0.11']),
    eps('node', ['10.250.0.12']),
    eps('lb', ['10.250.0.13']),
    eps('idle', []),
    eps('sticky', ['10.250.0.11', '10.250.0.12', '10.250.0.13']),
    eps('udp', ['10.250.0.12'], 5353, 'dns', 'UDP'),
  ]);
  proxier = again;
  const r = await again.start();
  t.true(r.ok, r.error?.message);
  t.true(r.full);
  t.is(r.chainsWritten, 0);
  t.is(r.chainsDeleted, 0);
  t.is(await hostGet(LB_IP, 80), 'p3');
});

test.serial('cleanup removes every chain, jump, route and the device, and leaves Docker alone', async (t) => {
  await proxier!.stop();
  const dockerBefore = (await saveText('filter')).split('\n').filter((l) => /DOCKER/.test(l) && !l.includes('KUBELITE-NFT1'));
  const r = await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL });
  t.true(r.chainsDeleted >= 9);
  t.is(r.jumpsDeleted, 8);
  t.true(r.deviceRemoved);
  const all = (await execOk('iptables-save', [])).stdout;
  t.false(all.includes('KUBELITE-NFT1'));
  t.false(all.includes('KL-NFT1-'));
  t.is((await exec('ip', ['route', 'show', SERVICE_CIDR])).stdout.trim(), '');
  t.is((await exec('ip', ['route', 'show', LB_POOL])).stdout.trim(), '');
  t.false((await readDevice(names.serviceDevice)).exists);
  const dockerAfter = (await saveText('filter')).split('\n').filter((l) => /DOCKER/.test(l));
  // Nothing of Docker's was removed. Lines naming another kubelite instance's bridge or chains are left
  // out: other test files create and remove their networks while this one runs.
  const otherInstances = (l: string) => /kl0-|KUBELITE-|KL-/.test(l);
  t.deepEqual(
    dockerBefore.filter((l) => !otherInstances(l) && !dockerAfter.includes(l)),
    [],
  );
  // A second cleanup finds nothing to do.
  t.deepEqual(await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL }), { chainsDeleted: 0, jumpsDeleted: 0, deviceRemoved: false, routesDeleted: 0 });
});
