// Issue 17 (15, 16): host plumbing broken by hand under a running `kubelite server` (slot 18: agent,
// proxy and the services component) and repaired without waiting for the periodic 30 s resync: the pod
// bridge (rebuilt with every Pod re-attached at its own IP), the service-CIDR route and the service
// device (netlink), the OUTPUT jump and a Service's nat rule (the rules' fingerprint). Traffic goes only
// to Pod IPs on the instance's bridge and to VIPs routed to its service device (checked before each
// request). Needs root, iptables and Docker; everything of instance t18 is removed afterwards.

import test from 'ava';
import type { Event, KObject, Node, Pod, Service } from '../../src/api/types.js';
import { R } from '../../src/api/resources.js';
import { hostNames } from '../../src/config.js';
import { exec, execOk } from '../../src/util/exec.js';
import { startTestServer, waitFor, waitForServiceRoute, type TestServer } from '../helpers/server.js';
import { dockerAvailable, httpRequest } from '../helpers/docker.js';
import { assertLocalRoute } from '../helpers/netns.js';
import { createPod, dockerId, isReady, nodeName, podManifest, waitPod } from './pods-helpers.js';
import { tearDownServer } from '../helpers/teardown.js';

const SLOT = 18;
let server: TestServer | undefined;
let node = '';
let vip = '';
let podIP = '';

function srv(): TestServer {
  if (!server) throw new Error('no server');
  return server;
}
const names = () => hostNames({ instance: srv().slot.instance });

test.before(async () => {
  if (!(await dockerAvailable())) throw new Error('these tests need a Docker engine (scripts/ensure-docker.sh starts one)');
  // The default resync period (30 s, on :00 and :30): repairs seen before the next one came from events.
  // iptables mode: the rule and jump faults below are iptables' (the watchdog's fingerprint is that plane's)
  server = await startTestServer({ slot: SLOT, args: ['--disable', 'scheduler,controllers,dns,ingress', '--lb-pool', `10.202.${SLOT}.0/24`, '--proxy-mode', 'iptables'] });
  node = await nodeName(server);
  await waitForServiceRoute(server.slot);
  await createPod(server, podManifest('web', node, {}, { app: 'web' }));
  const svc = await server.client.create<Service>(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  vip = svc.spec.clusterIP!;
  podIP = (await waitPod(server, 'web', isReady, 'Ready')).status!.podIP!;
  await waitFor(async () => /pod=web/.test(await get(vip, 80)), 30_000, 'the VIP answering');
});

test.after.always(async () => {
  await tearDownServer(server, SLOT);
});

/** GET through an address that is routed locally (a Pod IP on our bridge or a VIP on our service device); else why not. */
async function get(addr: string, port: number): Promise<string> {
  try {
    const route = await assertLocalRoute(addr);
    if (route.dev !== names().podBridge && route.dev !== names().serviceDevice && route.type !== 'local') return `not routed here (${route.dev})`;
    return (await httpRequest(`http://${addr}:${port}/`, { timeoutMs: 1000 })).body;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/**
 * Waits until the last periodic resync (every 30 s, on :00 and :30) is over (3 s ago at least) and the
 * next one is 20 s away at least; returns when the next one runs. What is repaired before then was not
 * the periodic resync's doing.
 */
async function quietWindow(): Promise<number> {
  for (;;) {
    const now = Date.now();
    const since = now % 30_000;
    if (since >= 3000 && since <= 10_000) return now - since + 30_000;
    await new Promise((r) => setTimeout(r, (since < 3000 ? 3000 - since : 33_000 - since) + 50));
  }
}

async function metric(re: RegExp): Promise<number> {
  const text = (await srv().client.raw('GET', '/metrics')).body.toString();
  return Number(re.exec(text)?.[1] ?? 0);
}

async function serviceRouteDev(): Promise<string | undefined> {
  const r = await exec('ip', ['-json', 'route', 'show', srv().slot.serviceCIDR]);
  return r.code === 0 ? (JSON.parse(r.stdout || '[]') as { dev?: string }[])[0]?.dev : undefined;
}

test.serial('the pod bridge deleted by hand: rebuilt, the Pod re-attached with its IP (same containers), Events and a metric', async (t) => {
  const before = await waitPod(srv(), 'web', isReady, 'Ready');
  const bridge = names().podBridge;
  const repairs = await metric(/^kubelite_agent_pod_network_repairs_total\{result="ok"\} (\d+)/m);
  const t0 = Date.now();
  await execOk('ip', ['link', 'del', bridge]);
  await waitFor(async () => (await exec('ip', ['link', 'show', bridge])).code === 0, 20_000, 'the bridge back');
  await waitFor(async () => /pod=web/.test(await get(podIP, 8080)), 20_000, 'the Pod answering on its IP again');
  t.log(`bridge back and the Pod answering after ${Date.now() - t0} ms`);
  await waitFor(async () => /pod=web/.test(await get(vip, 80)), 20_000, 'the VIP answering again');
  const after = await waitPod(srv(), 'web', isReady, 'Ready');
  t.is(after.status?.podIP, podIP, 'same Pod IP');
  t.is(dockerId(after), dockerId(before), 'the same container: re-attached, not restarted');
  t.is(await metric(/^kubelite_agent_pod_network_repairs_total\{result="ok"\} (\d+)/m), repairs + 1);
  t.is(await metric(/^kubelite_agent_pod_network_ready (\d+)/m), 1);
  const events = (await srv().client.list<Event & KObject>(R.events, { namespace: 'default', fieldSelector: `involvedObject.kind=Node` })).items;
  t.true(events.some((e) => e.reason === 'PodNetworkLost' && e.type === 'Warning' && e.message?.includes(bridge)), JSON.stringify(events.map((e) => e.reason)));
  t.true(events.some((e) => e.reason === 'PodNetworkRepaired' && /1 containers re-attached/.test(e.message ?? '')));
  const n = await waitFor(async () => {
    const x = await srv().client.get<Node>(R.nodes, undefined, node);
    return x.status?.conditions?.find((c) => c.type === 'NetworkUnavailable')?.status === 'False' && x.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && x;
  }, 20_000, 'the Node Ready with its network available');
  t.truthy(n);
});

test.serial('the service-CIDR route deleted: back at once (netlink), before the periodic resync', async (t) => {
  const netlink = await metric(/^kubelite_proxy_repairs_total\{trigger="netlink"\} (\d+)/m);
  const resync = await quietWindow();
  await execOk('ip', ['route', 'del', srv().slot.serviceCIDR, 'dev', names().serviceDevice]);
  await waitFor(async () => (await serviceRouteDev()) === names().serviceDevice, 20_000, 'the route back');
  t.true(Date.now() < resync, 'repaired before the periodic resync would have run');
  t.true((await metric(/^kubelite_proxy_repairs_total\{trigger="netlink"\} (\d+)/m)) > netlink);
  t.regex(await get(vip, 80), /pod=web/);
});

test.serial('the service device deleted: device and routes back at once, the VIP answers', async (t) => {
  const resync = await quietWindow();
  await execOk('ip', ['link', 'del', names().serviceDevice]);
  await waitFor(async () => (await serviceRouteDev()) === names().serviceDevice, 20_000, 'device and route back');
  t.true(Date.now() < resync, 'repaired before the periodic resync would have run');
  await waitFor(async () => /pod=web/.test(await get(vip, 80)), 10_000, 'the VIP answering');
  t.regex(await get(vip, 80), /pod=web/);
});

test.serial('the OUTPUT jump and a Service rule deleted: back within seconds (fingerprint), before the periodic resync', async (t) => {
  const chain = `${names().chainPrefix}-SERVICES`;
  // Let the repairs of the tests before settle (a rebuilt device sends link events of its own).
  await new Promise((r) => setTimeout(r, 3000));
  const fingerprint = await metric(/^kubelite_proxy_repairs_total\{trigger="fingerprint"\} (\d+)/m);
  // Nothing changed: what the kernel shows of our rules matches what the proxier wrote (no repair loop).
  await new Promise((r) => setTimeout(r, 3000));
  t.is(await metric(/^kubelite_proxy_repairs_total\{trigger="fingerprint"\} (\d+)/m), fingerprint, 'no repair while nothing changed');
  let resync = await quietWindow();
  await execOk('iptables', ['-w', '-t', 'nat', '-D', 'OUTPUT', '-m', 'comment', '--comment', 'kubelite service portals', '-j', chain]);
  const hasJump = async () => (await execOk('iptables', ['-w', '-t', 'nat', '-S', 'OUTPUT'])).stdout.includes(`-j ${chain}`);
  await waitFor(hasJump, 20_000, 'the jump back');
  t.true(Date.now() < resync, 'the jump repaired before the periodic resync would have run');
  t.true((await metric(/^kubelite_proxy_repairs_total\{trigger="fingerprint"\} (\d+)/m)) > fingerprint);

  resync = await quietWindow();
  const rules = (await execOk('iptables', ['-w', '-t', 'nat', '-S', chain])).stdout.split('\n').filter((l) => l.startsWith('-A '));
  const idx = rules.findIndex((l) => l.includes('default/web:http cluster IP'));
  t.true(idx >= 0, rules.join('\n'));
  await execOk('iptables', ['-w', '-t', 'nat', '-D', chain, String(idx + 1)]);
  const hasRule = async () => (await execOk('iptables', ['-w', '-t', 'nat', '-S', chain])).stdout.includes('default/web:http cluster IP');
  await waitFor(hasRule, 20_000, 'the rule back');
  t.true(Date.now() < resync, 'the rule repaired before the periodic resync would have run');
  t.regex(await get(vip, 80), /pod=web/);
});

test.serial('a Pod created after the repairs gets an address and answers through the VIP', async (t) => {
  await createPod(srv(), podManifest('web2', node, {}, { app: 'web' }));
  const p = await waitPod(srv(), 'web2', isReady, 'Ready');
  t.not(p.status?.podIP, podIP);
  t.regex(await get(p.status!.podIP!, 8080), /pod=web2/);
  const pods = (await srv().client.list<Pod>(R.pods, { namespace: 'default' })).items;
  t.is(pods.filter(isReady).length, 2);
});
