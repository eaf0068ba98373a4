// The proxy component's wiring (informers -> proxier -> host) with a simulated host, hairpin mode on a
// fake sysfs, and the cleanup plan: no root needed.

import test from 'ava';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Endpoints, Service } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { defaultConfig, hostNames } from '../../../src/config.js';
import { Registry } from '../../../src/server/registry.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { InformerFactory } from '../../../src/client/informer.js';
import { silentLogger } from '../../../src/util/log.js';
import type { ComponentContext } from '../../../src/server/component.js';
import { tableOrder, type NetfilterHost } from '../../../src/netfilter/proxier.js';
import type { ProxyService } from '../../../src/netfilter/model.js';
import { jumpHostsFrom, jumpRestoreText, planJumps } from '../../../src/netfilter/iptables.js';
import { chainNames } from '../../../src/netfilter/names.js';
import { parseSave } from '../../../src/netfilter/save-parse.js';
import type { DeviceAction, DeviceState } from '../../../src/netfilter/device.js';
import { ProxyComponent } from '../../../src/netfilter/component.js';
import { ensureHairpin } from '../../../src/host/hairpin.js';
import { planDockerCleanup } from '../../../src/main/cleanup.js';

class RecordingHost implements NetfilterHost {
  restores: string[] = [];
  fail = false;
  device: DeviceState = { exists: false, up: false, routes: [], addresses: [] };
  actions: DeviceAction[] = [];
  async restore(text: string): Promise<void> {
    if (this.fail) throw new Error('iptables-restore: simulated failure');
    this.restores.push(text);
  }
  async save(): Promise<string> {
    return '';
  }
  async ensureJumps() {
    return { insert: [], remove: [] };
  }
  async conntrackDelete(): Promise<number> {
    return 0;
  }
  async readDevice(): Promise<DeviceState> {
    return structuredClone(this.device);
  }
  async applyDevice(_dev: string, actions: DeviceAction[]): Promise<void> {
    this.actions.push(...actions);
    for (const a of actions) {
      if (a.op === 'create') this.device.exists = true;
      if (a.op === 'up') this.device.up = true;
      if (a.op === 'route-replace') this.device.routes.push(a.cidr);
      if (a.op === 'addr-add') this.device.addresses.push(a.ip);
    }
  }
}

async function context(t: import('ava').ExecutionContext, lbPool?: string) {
  const store = new MemoryStore();
  await store.open();
  const registry = new Registry(store);
  await registry.bootstrapNamespaces();
  const informers = new InformerFactory(registry);
  const config = defaultConfig({ instance: 'u1', serviceCIDR: '10.201.90.0/24', podCIDR: '10.200.90.0/24', lbPool });
  const readiness = new Map<string, () => boolean>();
  const ctx = {
    client: registry,
    registry,
    config,
    names: hostNames(config),
    informers,
    logger: silentLogger(),
    addReadiness: (n: string, f: () => boolean) => readiness.set(n, f),
  } as unknown as ComponentContext;
  t.teardown(() => informers.stop());
  return { registry, ctx, readiness };
}

const service: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec: { clusterIP: '10.201.90.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
};
const endpoints: Endpoints = {
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name: 'web', namespace: 'default' },
  subsets: [{ addresses: [{ ip: '10.200.90.11' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
};

test('proxy component: services and endpoints from the API become rules; ready after the first sync', async (t) => {
  const { registry, ctx, readiness } = await context(t);
  await registry.create(R.services, service);
  const host = new RecordingHost();
  const proxy = new ProxyComponent({ host, hairpin: false });
  await proxy.start(ctx);
  t.teardown(() => proxy.stop());
  t.true(readiness.get('proxy')!());
  t.true(host.actions.some((a) => a.op === 'route-replace' && a.cidr === '10.201.90.0/24'), 'service CIDR routed to the device');
  t.regex(host.restores.join('\n'), /-d 10\.201\.90\.20\/32 .*--dport 80 -j REJECT/, 'no endpoints yet: rejected');

  await registry.create(R.endpoints, endpoints);
  const r = await proxy.waitForSync();
  t.true(r.ok);
  const all = host.restores.join('\n');
  t.regex(all, /-A KUBELITE-U1-SERVICES -d 10\.201\.90\.20\/32 -p tcp .* -j KL-U1-SVC-/);
  t.regex(all, /DNAT --to-destination 10\.200\.90\.11:8080/);

  await registry.delete(R.services, 'default', 'web');
  await proxy.waitForSync();
  t.regex(host.restores.at(-1)!, /-X KL-U1-SVC-/, 'the service chain is deleted with the Service');
});

test('proxy component: a failing first sync leaves it not ready until a sync succeeds', async (t) => {
  const { ctx, readiness } = await context(t);
  const host = new RecordingHost();
  host.fail = true;
  const proxy = new ProxyComponent({ host, hairpin: false });
  await proxy.start(ctx);
  t.teardown(() => proxy.stop());
  t.false(readiness.get('proxy')!());
  host.fail = false;
  // The proxier retries on its own after a back-off of about a second.
  const deadline = Date.now() + 5000;
  while (!readiness.get('proxy')!() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.true(readiness.get('proxy')!());
});

test('proxy component: LoadBalancer pool addresses from status go on the device', async (t) => {
  const { registry, ctx } = await context(t, '10.202.90.0/24');
  const host = new RecordingHost();
  const proxy = new ProxyComponent({ host, hairpin: false });
  await proxy.start(ctx);
  t.teardown(() => proxy.stop());
  const lb = await registry.create<Service>(R.services, { ...service, metadata: { name: 'lb', namespace: 'default' }, spec: { ...service.spec, clusterIP: '10.201.90.21', type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] } });
  await registry.update(R.services, { ...lb, status: { loadBalancer: { ingress: [{ ip: '10.202.90.5', ipMode: 'VIP' }] } } }, { subresource: 'status' });
  await proxy.waitForSync();
  await proxy.waitForSync();
  t.true(host.device.addresses.includes('10.202.90.5'));
  t.true(host.device.routes.includes('10.202.90.0/24'));
});

test('hairpin: every port of the bridge turned on once, other bridges untouched, a missing bridge is fine', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'kl-sysfs-'));
  t.teardown(() => fs.rm(root, { recursive: true, force: true }));
  const port = async (br: string, p: string, v: string) => {
    await fs.mkdir(path.join(root, br, 'brif', p), { recursive: true });
    await fs.writeFile(path.join(root, br, 'brif', p, 'hairpin_mode'), v);
  };
  await port('kl0-t4', 'veth1', '0\n');
  await port('kl0-t4', 'veth2', '1\n');
  await port('docker0', 'veth9', '0\n');
  t.deepEqual(await ensureHairpin('kl0-t4', root), ['veth1']);
  t.is((await fs.readFile(path.join(root, 'kl0-t4', 'brif', 'veth1', 'hairpin_mode'), 'utf8')).trim(), '1');
  t.is((await fs.readFile(path.join(root, 'docker0', 'brif', 'veth9', 'hairpin_mode'), 'utf8')).trim(), '0');
  t.deepEqual(await ensureHairpin('kl0-t4', root), []);
  t.deepEqual(await ensureHairpin('kl0-zz', root), []);
  await t.throwsAsync(() => ensureHairpin('../etc', root), { message: /unsafe bridge name/ });
});

test('cleanup plan: only the instance\'s containers and its labelled network', (t) => {
  const names = hostNames({ instance: 't4' });
  const plan = planDockerCleanup(
    names,
    [
      { id: 'a', names: ['/k8s-t4_x'], labels: { 'io.kubelite.instance': 't4' } },
      { id: 'b', names: ['/k8s-t5_x'], labels: { 'io.kubelite.instance': 't5' } },
      { id: 'c', names: ['/other'], labels: {} },
    ],
    [
      { id: 'n1', name: 'kubelite-t4', labels: { 'io.kubelite.instance': 't4' } },
      { id: 'n2', name: 'kubelite-t5', labels: { 'io.kubelite.instance': 't5' } },
    ],
  );
  t.deepEqual(plan.containers.map((c) => c.id), ['a']);
  t.is(plan.network?.id, 'n1');
  const foreign = planDockerCleanup(names, [], [{ id: 'n3', name: 'kubelite-t4', labels: {} }]);
  t.is(foreign.network, undefined);
  t.is(foreign.foreignNetwork?.id, 'n3');
});

test('table order: filter first when a Service loses its last endpoint, nat first when one gains its first', (t) => {
  const ps = (key: string, ready: boolean[]): ProxyService => ({
    key,
    namespace: 'default',
    name: key,
    portName: '',
    protocol: 'TCP',
    clusterIP: '10.0.0.1',
    port: 80,
    loadBalancerIPs: [],
    externalIPs: [],
    endpoints: ready.map((r, i) => ({ ip: `10.244.0.${i + 1}`, port: 80, ready: r })),
  });
  t.deepEqual(tableOrder(undefined, [ps('a', [true])]), ['nat', 'filter']);
  t.deepEqual(tableOrder([ps('a', [true])], [ps('a', [])]), ['filter', 'nat']);
  t.deepEqual(tableOrder([ps('a', [true])], [ps('a', [false])]), ['filter', 'nat']);
  t.deepEqual(tableOrder([ps('a', [])], [ps('a', [true])]), ['nat', 'filter']);
  t.deepEqual(tableOrder([ps('a', [true]), ps('b', [])], [ps('a', []), ps('b', [true])]), ['nat', 'filter']);
  t.deepEqual(tableOrder([ps('a', [true, true])], [ps('a', [true])]), ['nat', 'filter']);
  t.deepEqual(tableOrder([ps('a', [true])], []), ['nat', 'filter'], 'a deleted Service leaves no gap to care about');
});

test('jump hosts from a dump a full resync already read (no second listing)', (t) => {
  const saved = parseSave(
    [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':OUTPUT ACCEPT [0:0]',
      ':KUBELITE-SERVICES - [0:0]',
      '-A PREROUTING -m comment --comment "kubelite service portals" -j KUBELITE-SERVICES',
      'COMMIT',
      '*filter',
      ':FORWARD DROP [0:0]',
      ':DOCKER-USER - [0:0]',
      '-A DOCKER-USER -j RETURN',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const hosts = jumpHostsFrom(saved);
  t.true(hosts.dockerUser);
  t.deepEqual(hosts.current.nat.get('PREROUTING'), ['-A PREROUTING -m comment --comment "kubelite service portals" -j KUBELITE-SERVICES']);
  t.deepEqual(hosts.current.nat.get('OUTPUT'), []);
  t.false(hosts.current.nat.has('KUBELITE-SERVICES'), 'only the chains our jumps live in');
  t.false(hosts.current.filter.has('INPUT'), 'a chain missing from the dump stays missing');
  t.false(jumpHostsFrom(parseSave('*filter\n:FORWARD DROP [0:0]\nCOMMIT\n')).dockerUser);
});

test('jump changes go to the kernel as one restore input per table, comments quoted', (t) => {
  const cn = chainNames(hostNames({ instance: 'u1' }));
  const plan = planJumps(cn, { nat: new Map([['PREROUTING', ['-A PREROUTING -j KUBELITE-U1-SERVICES']]]), filter: new Map() }, { dockerUser: false });
  const text = jumpRestoreText(plan);
  t.true(text.startsWith('*nat\n-D PREROUTING -j KUBELITE-U1-SERVICES\n-I PREROUTING 1 -m comment --comment "kubelite service portals" -j KUBELITE-U1-SERVICES\n'));
  t.regex(text, /\*filter\n(-I \S+ 1 .*\n)+COMMIT\n$/);
  t.is(text.match(/^-I /gm)!.length, plan.insert.length);
  t.is(jumpRestoreText({ insert: [], remove: [] }), '');
});
