// The proxier in nftables mode on the real kernel (root, no Docker needed): fake Pods are network
// namespaces on a test bridge, plus an "outside" client on another subnet of the same bridge whose
// packets arrive like traffic from another machine. Instance `nft2`, pod CIDR 10.230.0.0/24, service
// CIDR 10.230.128.0/24, LB pool 10.230.129.0/24, outside subnet 10.230.200.0/24: nothing here collides
// with other test files or the default instance. Every address contacted is checked with
// assertLocalRoute first; the outside client only reaches the host's own addresses.

import test from 'ava';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import type { Endpoints, EndpointSubset, Service, ServiceSpec } from '../../src/api/types.js';
import { hostNames } from '../../src/config.js';
import { cleanupNetfilter } from '../../src/netfilter/cleanup.js';
import { readDevice } from '../../src/netfilter/device.js';
import { exec, execOk } from '../../src/util/exec.js';
import { nftBinary, nftListTable, probeNftables } from '../../src/netfilter/nft.js';
import { readNftEndpointCounters } from '../../src/netfilter/nft-counters.js';
import { nftNames, nftTableName } from '../../src/netfilter/nft-names.js';
import { parseNftTable } from '../../src/netfilter/nft-parse.js';
import { diffNft, isEmptyNftDiff } from '../../src/netfilter/nft-script.js';
import { Proxier, type ProxyMode } from '../../src/netfilter/proxier.js';
import { assertLocalRoute, createBridge, createPod, hostUplinkAddress, localGet, type FakePod, type TestBridge } from '../helpers/netns.js';

const names = hostNames({ instance: 'nft2' });
const nn = nftNames(names);
const TABLE = nftTableName(names);
const POD_CIDR = '10.230.0.0/24';
const SERVICE_CIDR = '10.230.128.0/24';
const LB_POOL = '10.230.129.0/24';
const BRIDGE = 'klnft2br';
const GATEWAY = '10.230.0.1';
const OUTSIDE_GW = '10.230.200.1';
const LB_IP = '10.230.129.10';
const NODE_PORT = 30890;
const SCRATCH = 'klnft2-scratch';
const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'unit', 'golden', 'nftables');

const VIP = {
  web: '10.230.128.10',
  self: '10.230.128.11',
  node: '10.230.128.12',
  lb: '10.230.128.13',
  idle: '10.230.128.14',
  sticky: '10.230.128.15',
  udp: '10.230.128.16',
  edge: '10.230.128.17',
  far: '10.230.128.18',
};

let bridge: TestBridge | undefined;
const pods: Record<string, FakePod> = {};
let outside: FakePod | undefined;
let proxier: Proxier | undefined;
let hostIP = '';
const logs: string[] = [];

function svc(name: string, spec: ServiceSpec, lbIPs?: string[]): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'nft', name }, spec };
  if (lbIPs) s.status = { loadBalancer: { ingress: lbIPs.map((ip) => ({ ip })) } };
  return s;
}
function eps(name: string, ips: string[], opts: { port?: number; portName?: string; protocol?: 'TCP' | 'UDP'; nodeName?: string } = {}): Endpoints {
  const { port = 8080, portName = 'http', protocol = 'TCP' } = opts;
  const subsets: EndpointSubset[] = ips.length ? [{ addresses: ips.map((ip) => ({ ip, ...(opts.nodeName ? { nodeName: opts.nodeName } : {}) })), ports: [{ name: portName, port, protocol }] }] : [];
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'nft', name }, subsets };
}

const hostGet = (addr: string, port: number) => localGet(addr, port);

async function curlFrom(pod: FakePod, addr: string, port: number): Promise<string> {
  await assertLocalRoute(addr);
  const r = await pod.run('curl', ['-sS', '--max-time', '3', `http://${addr}:${port}/`]);
  return r.code === 0 ? r.stdout.trim() : `error:${r.code}:${r.stderr.trim()}`;
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

/** The reply tuple's destination of the newest TCP conntrack entry from `src` to `vip`: the source the endpoint answered. */
async function replyDestination(vip: string, src: string, port?: number): Promise<string | undefined> {
  const r = await exec('conntrack', ['-L', '-p', 'tcp', '--orig-dst', vip, '--orig-src', src, ...(port ? ['--dport', String(port)] : [])]);
  const m = /src=\S+ dst=\S+ sport=\d+ dport=\d+ (?:packets=\d+ bytes=\d+ )?src=\S+ dst=(\S+) /.exec(r.stdout);
  return m?.[1];
}

const nft = (args: string[]) => execOk(nftBinary(), args);
const tableText = async () => (await nftListTable(TABLE)) ?? '';

function allServices(): Service[] {
  return [
    svc('web', { clusterIP: VIP.web, ports: [{ name: 'http', port: 80 }] }),
    svc('self', { clusterIP: VIP.self, ports: [{ name: 'http', port: 80 }] }),
    svc('node', { type: 'NodePort', clusterIP: VIP.node, ports: [{ name: 'http', port: 80, nodePort: NODE_PORT }] }),
    svc('lb', { type: 'LoadBalancer', clusterIP: VIP.lb, ports: [{ name: 'http', port: 80, nodePort: NODE_PORT + 1 }] }, [LB_IP]),
    svc('idle', { type: 'NodePort', clusterIP: VIP.idle, ports: [{ name: 'http', port: 80, nodePort: NODE_PORT + 2 }] }),
    svc('sticky', { clusterIP: VIP.sticky, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'http', port: 80 }] }),
    svc('udp', { clusterIP: VIP.udp, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    svc('edge', { type: 'NodePort', clusterIP: VIP.edge, externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: NODE_PORT + 3 }] }),
    svc('far', { type: 'NodePort', clusterIP: VIP.far, externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: NODE_PORT + 4 }] }),
  ];
}
function allEndpoints(web = ['10.230.0.11', '10.230.0.12', '10.230.0.13'], udp = ['10.230.0.11']): Endpoints[] {
  return [
    eps('web', web),
    eps('self', ['10.230.0.11']),
    eps('node', ['10.230.0.12']),
    eps('lb', ['10.230.0.13']),
    eps('idle', []),
    eps('sticky', ['10.230.0.11', '10.230.0.12', '10.230.0.13']),
    eps('udp', udp, { port: 5353, portName: 'dns', protocol: 'UDP' }),
    eps('edge', ['10.230.0.13'], { nodeName: 'here' }),
    // Ready, but on another node: externalTrafficPolicy Local has nothing for outside traffic here.
    eps('far', ['10.230.0.12'], { nodeName: 'elsewhere' }),
  ];
}

function newProxier(mode: ProxyMode = 'nftables'): Proxier {
  return new Proxier({
    mode,
    names,
    podCIDR: POD_CIDR,
    serviceCIDR: SERVICE_CIDR,
    nodeIPs: hostIP ? [hostIP] : [],
    lbPool: LB_POOL,
    nodeName: 'here',
    resyncSchedule: '0 0 1 1 *', // the tests call fullResync themselves
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
  });
}

async function startProxier(mode: ProxyMode = 'nftables', web?: string[], udp?: string[]): Promise<Proxier> {
  const p = newProxier(mode);
  p.setServices(allServices());
  p.setEndpoints(allEndpoints(web, udp));
  const r = await p.start();
  if (!r.ok) throw r.error;
  return p;
}

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('the nftables integration tests need root (nft, iptables, ip netns)');
  const support = await probeNftables();
  if (!support.ok) throw new Error(`nftables cannot run here: ${support.reason}`);
  await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL });
  await exec('conntrack', ['-D', '-p', 'udp', '--orig-dst', VIP.udp]);
  hostIP = (await hostUplinkAddress()) ?? '';
  bridge = await createBridge(BRIDGE, `${GATEWAY}/24`);
  await execOk('ip', ['addr', 'add', `${OUTSIDE_GW}/24`, 'dev', BRIDGE]);
  for (const [n, ip] of [
    ['p1', '10.230.0.11'],
    ['p2', '10.230.0.12'],
    ['p3', '10.230.0.13'],
    ['client', '10.230.0.20'],
  ] as const) {
    pods[n] = await createPod(bridge, `klnft2-${n}`, `klnft2${n}`, ip);
  }
  for (const n of ['p1', 'p2', 'p3']) await pods[n].serveHttp(8080, `${n}\n`);
  await pods.p1.serveUdp(5353, 'p1');
  await pods.p2.serveUdp(5353, 'p2');
  // Another machine, as far as the host can tell: not a Pod, not a local address.
  outside = await createPod({ ...bridge, gateway: OUTSIDE_GW, prefixLen: 24 }, 'klnft2-ext', 'klnft2ext', '10.230.200.2');
  proxier = await startProxier();
});

test.after.always(async () => {
  await proxier?.stop();
  for (const p of [...Object.values(pods), outside]) await p?.remove();
  await bridge?.remove();
  await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL });
  await exec('ip', ['netns', 'del', SCRATCH]);
});

test.serial('the table of its own, base chains at the documented priorities; in iptables only the forward accept', async (t) => {
  const chains = (await nft(['list', 'chains', 'ip'])).stdout;
  const ours = chains.slice(chains.indexOf(`table ip ${TABLE} {`));
  for (const hook of [
    'type nat hook prerouting priority dstnat - 1; policy accept;',
    'type nat hook output priority -101; policy accept;',
    'type nat hook postrouting priority srcnat - 1; policy accept;',
    'type filter hook input priority -110; policy accept;',
    'type filter hook forward priority -110; policy accept;',
    'type filter hook output priority -110; policy accept;',
  ]) t.true(ours.includes(hook), hook);
  const save = (await execOk('iptables-save', [])).stdout;
  t.deepEqual(save.split('\n').filter((l) => l.includes('KUBELITE-NFT2') || l.includes('KL-NFT2-')).map((l) => l.replace(/ \[\d+:\d+\]$/, '')), [
    ':KUBELITE-NFT2-FORWARD -',
    '-A DOCKER-USER -m comment --comment "kubelite forwarding rules" -j KUBELITE-NFT2-FORWARD',
    '-A KUBELITE-NFT2-FORWARD -m comment --comment "kubelite forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBELITE-NFT2-FORWARD -s 10.230.0.0/24 -m comment --comment "kubelite forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A KUBELITE-NFT2-FORWARD -d 10.230.0.0/24 -m comment --comment "kubelite forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
  ]);
  const dev = await readDevice(names.serviceDevice);
  t.deepEqual(dev.routes.sort(), [SERVICE_CIDR, LB_POOL].sort());
  t.is((await assertLocalRoute('10.230.128.200')).dev, names.serviceDevice);
});

test.serial('ClusterIP with 3 endpoints: every endpoint answers from the host and from a Pod (through Docker\'s FORWARD policy)', async (t) => {
  const fromHost = new Set<string>();
  for (let i = 0; i < 60 && fromHost.size < 3; i++) fromHost.add(await hostGet(VIP.web, 80));
  t.deepEqual([...fromHost].sort(), ['p1', 'p2', 'p3']);
  const fromPod = new Set<string>();
  for (let i = 0; i < 60 && fromPod.size < 3; i++) fromPod.add(await curlFrom(pods.client, VIP.web, 80));
  t.deepEqual([...fromPod].sort(), ['p1', 'p2', 'p3']);
});

test.serial('neither the host nor a Pod is masqueraded on the way to a ClusterIP; a Pod reaching itself is', async (t) => {
  const src = (await assertLocalRoute(VIP.node)) as { prefsrc?: string };
  t.is(await hostGet(VIP.node, 80), 'p2');
  const hostSrc = src.prefsrc ?? hostIP;
  t.is(await replyDestination(VIP.node, hostSrc), hostSrc, 'the endpoint answered the host address itself');
  t.is(await curlFrom(pods.client, VIP.node, 80), 'p2');
  t.is(await replyDestination(VIP.node, '10.230.0.20'), '10.230.0.20');
  // Hairpin: p1 through its own Service comes back to itself from the gateway.
  t.is(await curlFrom(pods.p1, VIP.self, 80), 'p1');
  t.is(await replyDestination(VIP.self, '10.230.0.11'), GATEWAY);
});

test.serial('NodePort on every host address (uplink and bridge gateway), from the host, a Pod and outside', async (t) => {
  t.truthy(hostIP);
  t.is(await hostGet(hostIP, NODE_PORT), 'p2');
  t.is(await hostGet(GATEWAY, NODE_PORT), 'p2');
  t.is(await curlFrom(pods.client, GATEWAY, NODE_PORT), 'p2');
  t.is(await curlFrom(outside!, hostIP, NODE_PORT), 'p2');
  // Outside traffic under externalTrafficPolicy Cluster is masqueraded.
  t.is(await replyDestination(hostIP, '10.230.200.2', NODE_PORT), GATEWAY);
});

test.serial('LoadBalancer: the pool address, from the host, a Pod and outside', async (t) => {
  t.is(await hostGet(LB_IP, 80), 'p3');
  t.is(await curlFrom(pods.client, LB_IP, 80), 'p3');
  t.is(await curlFrom(outside!, LB_IP, 80), 'p3');
  t.is(await hostGet(hostIP, NODE_PORT + 1), 'p3');
});

test.serial('externalTrafficPolicy Local: outside traffic keeps its source to a local endpoint, and is refused without one', async (t) => {
  t.is(await curlFrom(outside!, hostIP, NODE_PORT + 3), 'p3');
  t.is(await replyDestination(hostIP, '10.230.200.2', NODE_PORT + 3), '10.230.200.2', 'not masqueraded');
  const t0 = performance.now();
  t.regex(await curlFrom(outside!, hostIP, NODE_PORT + 4), /^error:7:/, 'refused (curl exit 7), not a timeout');
  t.true(performance.now() - t0 < 1500);
  // Pods and the host may still use the remote endpoint.
  t.is(await curlFrom(pods.client, VIP.far, 80), 'p2');
  t.is(await hostGet(hostIP, NODE_PORT + 4), 'p2');
});

test.serial('no ready endpoints: refused at once on the VIP and the node port, from the host and a Pod', async (t) => {
  for (const [addr, port] of [
    [VIP.idle, 80],
    [hostIP, NODE_PORT + 2],
  ] as [string, number][]) {
    const t0 = performance.now();
    t.is(await hostGet(addr, port), 'error:ECONNREFUSED', `${addr}:${port}`);
    t.true(performance.now() - t0 < 1000);
  }
  t.regex(await curlFrom(pods.client, VIP.idle, 80), /^error:7:/);
});

test.serial('ClientIP affinity: one client keeps its endpoint, recorded in the endpoint\'s dynamic set', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 15; i++) seen.add(await hostGet(VIP.sticky, 80));
  t.is(seen.size, 1, [...seen].join(','));
  const ip = { p1: '10.230.0.11', p2: '10.230.0.12', p3: '10.230.0.13' }[[...seen][0] as 'p1'];
  const set = nn.affinitySet('nft/sticky:http', 'TCP', `${ip}:8080`, 60);
  const listed = (await nft(['list', 'set', 'ip', TABLE, set])).stdout;
  // The host's source address for the VIP (whatever the route picks), with up to a minute to live.
  t.regex(listed, /elements = \{ \d+\.\d+\.\d+\.\d+ (timeout 1m )?expires (\d+s)?\d+ms \}/);
});

test.serial('UDP: a removed endpoint loses its conntrack flows, so the same client flow moves to the new endpoint', async (t) => {
  t.is(await udpAsk(VIP.udp, 53, 40153), 'p1');
  t.is(await udpAsk(VIP.udp, 53, 40153), 'p1');
  proxier!.upsertEndpoints(eps('udp', ['10.230.0.12'], { port: 5353, portName: 'dns', protocol: 'UDP' }));
  const r = await proxier!.waitForSync();
  t.true(r.ok);
  t.is(await udpAsk(VIP.udp, 53, 40153), 'p2');
});

test.serial('removing an endpoint: one chain rewritten and one hairpin element, one transaction, at once out of rotation', async (t) => {
  proxier!.upsertEndpoints(eps('web', ['10.230.0.11', '10.230.0.12']));
  const r = await proxier!.waitForSync();
  t.true(r.ok);
  t.falsy(r.fullRender);
  t.is(r.chainsWritten, 1);
  t.is(r.chainsDeleted, 0);
  t.is(r.elementsWritten, 0, '10.230.0.13 is still an endpoint of other Services: its hairpin element stays');
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) seen.add(await hostGet(VIP.web, 80));
  t.deepEqual([...seen].sort(), ['p1', 'p2']);
});

test.serial('every DNAT rule counts its endpoint', async (t) => {
  const counters = await readNftEndpointCounters(names);
  const web = counters.filter((c) => c.service === 'web');
  t.deepEqual(web.map((c) => c.endpoint), ['10.230.0.11:8080', '10.230.0.12:8080']);
  for (const c of web) {
    t.like(c, { namespace: 'nft', port: 'http', protocol: 'TCP' });
    t.true(c.packets > 0 && c.bytes > 0, JSON.stringify(c));
  }
  t.true(counters.some((c) => c.service === 'udp' && c.protocol === 'UDP' && c.packets > 0));
});

test.serial('what we write reads back identically: a full resync writes nothing', async (t) => {
  const r = await proxier!.fullResync();
  t.true(r.ok, r.error?.message);
  t.is(r.chainsWritten + r.chainsDeleted + (r.elementsWritten ?? 0), 0, JSON.stringify(r));
});

test.serial('hand-made damage is repaired by a full resync: an element, a chain\'s rules, a stray chain, then the whole table', async (t) => {
  await nft(['delete', 'element', 'ip', TABLE, 'service-ips', `{ ${VIP.node} . tcp . 80 }`]);
  await nft(['flush', 'chain', 'ip', TABLE, nn.serviceChain('svc', 'nft/lb:http', 'TCP')]);
  await nft(['add', 'chain', 'ip', TABLE, 'svc-AAAAAAAA-stray/chain/tcp/x']);
  await t.throwsAsync(hostGet(VIP.node, 80).then((x) => (x === 'p2' ? Promise.resolve() : Promise.reject(new Error(x)))));
  const r = await proxier!.fullResync();
  t.true(r.ok, r.error?.message);
  t.falsy(r.fullRender);
  t.is(r.chainsWritten, 1);
  t.is(r.chainsDeleted, 1);
  t.is(await hostGet(VIP.node, 80), 'p2');
  t.is(await hostGet(LB_IP, 80), 'p3');
  t.true(logs.some((l) => l.includes('full resync repaired the nftables table')));

  await nft(['delete', 'table', 'ip', TABLE]);
  t.is(await tableText(), '');
  const r2 = await proxier!.fullResync();
  t.true(r2.ok);
  t.true(r2.fullRender);
  t.is(await hostGet(VIP.node, 80), 'p2');
});

test.serial('a transaction the kernel refuses: the previous table stays, the error is counted, the retry renders the whole table', async (t) => {
  // Remove the web Service's chain behind the proxier's back, so its next partial sync (flush that chain) is refused.
  const web = nn.serviceChain('svc', 'nft/web:http', 'TCP');
  await nft(['delete', 'element', 'ip', TABLE, 'service-ips', `{ ${VIP.web} . tcp . 80 }`]);
  await nft(['flush', 'chain', 'ip', TABLE, web]);
  await nft(['delete', 'chain', 'ip', TABLE, web]);
  const before = await tableText();
  proxier!.upsertEndpoints(eps('web', ['10.230.0.11', '10.230.0.12', '10.230.0.13']));
  const failed = await proxier!.waitForSync();
  t.false(failed.ok);
  t.regex(failed.error!.message, /^nft -f: line \d+/);
  t.is((await tableText()).replace(/packets \d+ bytes \d+/g, ''), before.replace(/packets \d+ bytes \d+/g, ''), 'nothing of the refused transaction applied');
  t.regex(await client.register.metrics(), /kubelite_proxy_sync_errors_total\{mode="nftables"\} [1-9]/);
  const retried = await proxier!.waitForSync(); // after the 1 s back-off
  t.true(retried.ok, retried.error?.message);
  t.true(retried.fullRender);
  const seen = new Set<string>();
  for (let i = 0; i < 60 && seen.size < 3; i++) seen.add(await hostGet(VIP.web, 80));
  t.deepEqual([...seen].sort(), ['p1', 'p2', 'p3']);
  t.regex(await client.register.metrics(), /kubelite_proxy_full_renders_total\{mode="nftables",reason="refused"\} [1-9]/);
});

test.serial('metrics are labelled with the mode', async (t) => {
  const text = await client.register.metrics();
  t.regex(text, /kubelite_proxy_sync_duration_seconds_count\{mode="nftables"\} \d+/);
  t.regex(text, /kubelite_proxy_rules_written_total\{mode="nftables"\} [1-9]\d*/);
  t.regex(text, /kubelite_proxy_elements_written_total\{mode="nftables"\} [1-9]\d*/);
  t.regex(text, /kubelite_proxy_endpoints\{service="nft\/web:http",mode="nftables"\} 3/);
});

test.serial('a restarted proxier adopts the table in place: nothing rewritten, counters kept, traffic keeps flowing', async (t) => {
  const before = (await readNftEndpointCounters(names)).find((c) => c.service === 'web')!;
  await proxier!.stop();
  proxier = await startProxier('nftables', undefined, ['10.230.0.12']);
  const after = (await readNftEndpointCounters(names)).find((c) => c.service === 'web' && c.endpoint === before.endpoint)!;
  t.true(after.packets >= before.packets, 'the table was not replaced');
  const r = await proxier.fullResync();
  t.is(r.chainsWritten + r.chainsDeleted, 0);
  t.is(await hostGet(LB_IP, 80), 'p3');
});

test.serial('switching to iptables and back: each mode removes the other\'s rules', async (t) => {
  await proxier!.stop();
  proxier = await startProxier('iptables', undefined, ['10.230.0.12']);
  t.is(await tableText(), '', 'the nftables table is gone');
  t.true((await execOk('iptables-save', ['-t', 'nat'])).stdout.includes(':KUBELITE-NFT2-SERVICES '));
  t.is(await hostGet(VIP.node, 80), 'p2');
  t.is(await curlFrom(pods.client, LB_IP, 80), 'p3');
  await proxier.stop();
  proxier = await startProxier('nftables', undefined, ['10.230.0.12']);
  t.regex(await tableText(), new RegExp(`^table ip ${TABLE} \\{`));
  const save = (await execOk('iptables-save', [])).stdout;
  t.deepEqual([...new Set(save.split('\n').filter((l) => /^:(KUBELITE|KL)-NFT2-/.test(l)).map((l) => l.split(' ')[0]))], [':KUBELITE-NFT2-FORWARD']);
  t.false(save.includes('-j KUBELITE-NFT2-SERVICES'));
  t.is(await hostGet(VIP.node, 80), 'p2');
  t.is(await curlFrom(pods.client, LB_IP, 80), 'p3');
});

test.serial('every golden table loads, and nft prints it back as exactly what was rendered', async (t) => {
  await exec('ip', ['netns', 'del', SCRATCH]);
  await execOk('ip', ['netns', 'add', SCRATCH]);
  const inScratch = (args: string[], input?: string) => exec('ip', ['netns', 'exec', SCRATCH, nftBinary(), ...args], { input });
  const files = fs.readdirSync(GOLDEN).filter((f) => f.endsWith('.nft'));
  t.true(files.length >= 10);
  for (const f of files) {
    const text = fs.readFileSync(path.join(GOLDEN, f), 'utf8');
    const loaded = await inScratch(['-f', '-'], text);
    t.is(loaded.code, 0, `${f}: ${loaded.stderr}`);
    const listed = await inScratch(['list', 'table', 'ip', 'kubelite-gold']);
    const back = parseNftTable(listed.stdout, 'kubelite-gold')!;
    const rendered = parseNftTable(text.split('\n').slice(2).join('\n'), 'kubelite-gold')!;
    t.true(isEmptyNftDiff(diffNft(back.state, rendered.state)), `${f}: nft prints it differently`);
    t.deepEqual([...back.sets], [...rendered.sets].map(([n, ty]) => [n, ty]), f);
  }
  await exec('ip', ['netns', 'del', SCRATCH]);
});

test.serial('cleanup removes the table, the forward chain and its jump, routes and the device; a second finds nothing', async (t) => {
  await proxier!.stop();
  const r = await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL });
  t.is(r.nftTableDeleted, TABLE);
  t.is(r.chainsDeleted, 1);
  t.is(r.jumpsDeleted, 1);
  t.true(r.deviceRemoved);
  t.is(await tableText(), '');
  t.false((await execOk('iptables-save', [])).stdout.includes('NFT2'));
  t.deepEqual(await cleanupNetfilter(names, { serviceCIDR: SERVICE_CIDR, lbPool: LB_POOL }), { chainsDeleted: 0, jumpsDeleted: 0, deviceRemoved: false, routesDeleted: 0 });
});
