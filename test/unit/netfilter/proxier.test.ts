// The Proxier's scheduling and repair logic against a simulated host (no root): syncs are immediate and
// coalesced, never lose a change, keep the previous rules when iptables-restore fails and retry, and a
// full resync repairs what was changed behind our back.

import test from 'ava';
import client from 'prom-client';
import type { Endpoints, Service, ServiceSpec } from '../../../src/api/types.js';
import { hostNames } from '../../../src/config.js';
import type { DeviceAction, DeviceState } from '../../../src/netfilter/device.js';
import type { JumpPlan } from '../../../src/netfilter/iptables.js';
import type { Table } from '../../../src/netfilter/names.js';
import { Proxier, type NetfilterHost } from '../../../src/netfilter/proxier.js';

/** A kernel that applies iptables-restore input the way --noflush does, one COMMIT at a time. */
class FakeHost implements NetfilterHost {
  tables: Record<Table, Map<string, string[]>> = { nat: new Map(), filter: new Map() };
  restores: string[] = [];
  saves = 0;
  jumpChecks = 0;
  conntrack: string[][] = [];
  device: DeviceState = { exists: false, up: false, routes: [], addresses: [] };
  deviceActions: DeviceAction[] = [];
  failures = 0;
  /** While set, restore() waits for it (after calling onGated): a sync held inside iptables-restore. */
  gate?: Promise<void>;
  onGated?: () => void;
  onSave?: () => void;

  async restore(text: string): Promise<void> {
    if (this.gate) {
      this.onGated?.();
      await this.gate;
    }
    this.restores.push(text);
    if (this.failures > 0) {
      this.failures--;
      throw new Error('iptables-restore: line 3 failed');
    }
    let t: Map<string, string[]> | undefined;
    const next = { nat: new Map(this.tables.nat), filter: new Map(this.tables.filter) };
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) t = next[line.slice(1) as Table];
      else if (line.startsWith(':')) t!.set(line.slice(1).split(' ')[0], []);
      else if (line.startsWith('-A ')) t!.get(line.split(' ')[1])!.push(line);
      else if (line.startsWith('-X ')) t!.delete(line.slice(3));
    }
    this.tables = next;
  }
  async save(table: Table): Promise<string> {
    this.saves++;
    this.onSave?.();
    const out = [`*${table}`];
    for (const c of this.tables[table].keys()) out.push(`:${c} - [0:0]`);
    for (const rules of this.tables[table].values()) out.push(...rules);
    out.push('COMMIT');
    return out.join('\n');
  }
  async ensureJumps(): Promise<JumpPlan> {
    this.jumpChecks++;
    return { insert: [], remove: [] };
  }
  async conntrackDelete(args: string[]): Promise<number> {
    this.conntrack.push(args);
    return 0;
  }
  async readDevice(): Promise<DeviceState> {
    return structuredClone(this.device);
  }
  async applyDevice(_dev: string, actions: DeviceAction[]): Promise<void> {
    this.deviceActions.push(...actions);
    for (const a of actions) {
      if (a.op === 'create') this.device.exists = true;
      if (a.op === 'up') this.device.up = true;
      if (a.op === 'route-replace') this.device.routes.push(a.cidr);
      if (a.op === 'addr-add') this.device.addresses.push(a.ip);
      if (a.op === 'addr-del') this.device.addresses = this.device.addresses.filter((x) => x !== a.ip);
    }
  }
  rulesOf(table: Table): string {
    return [...this.tables[table].values()].flat().join('\n');
  }
}

const names = hostNames({ instance: 'unit1' });

/** A metric's value for exactly these labels (0 before its first observation). */
async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = client.register.getSingleMetric(name);
  if (!m) return 0;
  const v = (await m.get()).values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

function svc(name: string, spec: ServiceSpec, lbIPs?: string[]): Service {
  const s: Service = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'u', name }, spec };
  if (lbIPs) s.status = { loadBalancer: { ingress: lbIPs.map((ip) => ({ ip })) } };
  return s;
}
function eps(name: string, ips: string[], protocol: 'TCP' | 'UDP' = 'TCP'): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'u', name }, subsets: ips.length ? [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'p', port: 8080, protocol }] }] : [] };
}

function make(host: FakeHost, extra: Partial<ConstructorParameters<typeof Proxier>[0]> = {}): Proxier {
  return new Proxier({
    names,
    podCIDR: '10.244.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    nodeIPs: ['192.0.2.2'],
    resyncSchedule: '0 0 1 1 *',
    host,
    ...extra,
  });
}

test('start: device and routes, every chain written, jumps ensured', async (t) => {
  const host = new FakeHost();
  const p = make(host, { lbPool: '10.250.129.0/24' });
  p.setServices([svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p', port: 80 }] }), svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.21', ports: [{ name: 'p', port: 80, nodePort: 30001 }] }, ['10.250.129.7'])]);
  p.setEndpoints([eps('web', ['10.244.0.5']), eps('lb', ['10.244.0.6'])]);
  const r = await p.start();
  t.teardown(() => p.stop());
  t.true(r.ok, r.error?.message);
  t.true(r.full);
  t.is(host.restores.length, 2, 'one restore per table');
  t.regex(host.rulesOf('nat'), /-j DNAT --to-destination 10\.244\.0\.5:8080/);
  t.is(host.jumpChecks, 1);
  t.deepEqual(host.device, { exists: true, up: true, routes: ['10.96.0.0/12', '10.250.129.0/24'], addresses: ['10.250.129.7'] });
});

test('changes during a running sync trigger exactly one more sync, which has all of them', async (t) => {
  const host = new FakeHost();
  const p = make(host);
  p.setServices([svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p', port: 80 }] })]);
  await p.start();
  t.teardown(() => p.stop());
  const before = host.restores.length;
  let release!: () => void;
  host.gate = new Promise((r) => (release = r));
  const blocked = new Promise<void>((r) => (host.onGated = r));
  p.upsertEndpoints(eps('web', ['10.244.0.1']));
  const first = p.waitForSync();
  await blocked; // the sync is now inside iptables-restore, waiting for the gate
  for (let i = 2; i <= 6; i++) p.upsertEndpoints(eps('web', ['10.244.0.1', `10.244.0.${i}`]));
  const second = p.waitForSync();
  host.gate = undefined;
  release();
  t.true((await first).ok);
  t.true((await second).ok);
  // One restore per changed table: the blocked sync, then a single one for the five changes.
  const natRestores = host.restores.slice(before).filter((x) => x.startsWith('*nat'));
  t.is(natRestores.length, 2);
  t.regex(host.rulesOf('nat'), /10\.244\.0\.6:8080/);
  t.notRegex(host.rulesOf('nat'), /10\.244\.0\.5:8080/);
});

test('a failed iptables-restore keeps the previous rules, is counted, and is retried with a read-back', async (t) => {
  const host = new FakeHost();
  const logs: string[] = [];
  const p = make(host, { logger: { info() {}, warn: (m) => logs.push(m), error: (m) => logs.push(m) } });
  p.setServices([svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p', port: 80 }] })]);
  p.setEndpoints([eps('web', ['10.244.0.1'])]);
  await p.start();
  t.teardown(() => p.stop());
  const errorsBefore = await metricValue('kubelite_proxy_sync_errors_total', { mode: 'iptables' });
  const kernelBefore = host.rulesOf('nat');
  host.failures = 1;
  p.upsertEndpoints(eps('web', ['10.244.0.2']));
  const failed = await p.waitForSync();
  t.false(failed.ok);
  t.regex(failed.error!.message, /line 3 failed/);
  t.is(p.lastError, failed.error);
  t.is(host.rulesOf('nat'), kernelBefore, 'the previous rules stay in force');
  t.true(logs.some((l) => l.includes('previous rules stay in force')));
  const errorsAfter = await metricValue('kubelite_proxy_sync_errors_total', { mode: 'iptables' });
  t.is(errorsAfter, errorsBefore + 1);
  // The retry comes by itself (1 s back-off) and reads the kernel back first.
  const savesBefore = host.saves;
  const retried = await p.waitForSync();
  t.true(retried.ok);
  t.regex(host.rulesOf('nat'), /10\.244\.0\.2:8080/);
  t.true(host.saves > savesBefore, 'the retry compared with the kernel');
  t.is(p.lastError, undefined);
});

test('fullResync repairs a chain emptied behind our back, and writes nothing when all is in place', async (t) => {
  const host = new FakeHost();
  const p = make(host);
  p.setServices([svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p', port: 80 }] })]);
  p.setEndpoints([eps('web', ['10.244.0.1', '10.244.0.2'])]);
  await p.start();
  t.teardown(() => p.stop());
  const clean = await p.fullResync();
  t.is(clean.chainsWritten + clean.chainsDeleted, 0);
  const svcChain = p.chains.servicePortChain('SVC', 'u/web:p', 'TCP');
  host.tables.nat.set(svcChain, []);
  const stale = `KL-UNIT1-SEP-${'A'.repeat(p.chains.hashLen)}`;
  host.tables.nat.set(stale, []); // a stale chain of ours
  host.tables.nat.set('DOCKER', ['-A DOCKER -j RETURN']); // not ours: never touched
  const r = await p.fullResync();
  t.true(r.ok);
  t.is(r.chainsWritten, 1);
  t.is(r.chainsDeleted, 1);
  t.is(host.tables.nat.get(svcChain)!.length, 3);
  t.false(host.tables.nat.has(stale));
  t.deepEqual(host.tables.nat.get('DOCKER'), ['-A DOCKER -j RETURN']);
});

test('the periodic resync runs on its cron schedule', async (t) => {
  const host = new FakeHost();
  const p = make(host, { resyncSchedule: '* * * * * *' });
  await p.start();
  t.teardown(() => p.stop());
  const saves = host.saves;
  // No sleep of a guessed length: wait for the cron tick's read-back itself (ava's timeout bounds it).
  await new Promise<void>((r) => (host.onSave = r));
  t.true(host.saves > saves, 'a full resync read the kernel back');
});

test('minSyncIntervalMs spaces syncs without losing the change', async (t) => {
  const host = new FakeHost();
  const p = make(host, { minSyncIntervalMs: 300 });
  p.setServices([svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p', port: 80 }] })]);
  await p.start();
  t.teardown(() => p.stop());
  const t0 = Date.now();
  p.upsertEndpoints(eps('web', ['10.244.0.1']));
  await p.waitForSync();
  p.upsertEndpoints(eps('web', ['10.244.0.9']));
  await p.waitForSync();
  t.true(Date.now() - t0 >= 300);
  t.regex(host.rulesOf('nat'), /10\.244\.0\.9:8080/);
});

test('a UDP endpoint that goes away has its conntrack flows deleted; deleting a Service removes its chains', async (t) => {
  const host = new FakeHost();
  const p = make(host);
  p.setServices([svc('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'p', port: 53, protocol: 'UDP' }] })]);
  p.setEndpoints([eps('dns', ['10.244.0.2', '10.244.0.3'], 'UDP')]);
  await p.start();
  t.teardown(() => p.stop());
  t.regex(await client.register.metrics(), /kubelite_proxy_endpoints\{service="u\/dns:p",mode="iptables"\} 2/);
  p.upsertEndpoints(eps('dns', ['10.244.0.3'], 'UDP'));
  await p.waitForSync();
  t.deepEqual(host.conntrack, [['-p', 'udp', '--orig-dst', '10.96.0.10', '--dst-nat', '10.244.0.2']]);
  p.deleteService('u/dns');
  const r = await p.waitForSync();
  t.is(r.chainsDeleted, 2);
  t.false([...host.tables.nat.keys()].some((c) => c.startsWith('KL-UNIT1-')));
  const metrics = await client.register.metrics();
  t.notRegex(metrics, /kubelite_proxy_endpoints\{service="u\/dns:p"/);
});

test('invalid input is reported, not thrown, and the rest is still applied', async (t) => {
  const host = new FakeHost();
  const warnings: string[] = [];
  const p = make(host, { logger: { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) } });
  p.setServices([svc('bad', { clusterIP: '10.96.0.999', ports: [{ name: 'p', port: 80 }] }), svc('good', { clusterIP: '10.96.0.30', ports: [{ name: 'p', port: 80 }] })]);
  p.setEndpoints([eps('good', ['10.244.0.4'])]);
  const r = await p.start();
  t.teardown(() => p.stop());
  t.true(r.ok);
  t.true(warnings.some((w) => w.includes('u/bad') && w.includes('10.96.0.999')));
  t.is(p.problems.length, 1);
  t.regex(host.rulesOf('nat'), /10\.244\.0\.4:8080/);
  // Reported once, not on every sync.
  await p.waitForSync();
  t.is(warnings.filter((w) => w.includes('u/bad')).length, 1);
});

test('stop: pending waiters resolve, later changes do nothing', async (t) => {
  const host = new FakeHost();
  const p = make(host);
  await p.start();
  await p.stop();
  const n = host.restores.length;
  p.upsertService(svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p', port: 80 }] }));
  await new Promise((r) => setTimeout(r, 30));
  t.is(host.restores.length, n);
});

test('constructor refuses bad configuration', (t) => {
  const host = new FakeHost();
  t.throws(() => make(host, { podCIDR: '10.244.0.0/33' }));
  t.throws(() => make(host, { masqueradeMark: 'x' }), { message: /masquerade mark/ });
  t.throws(() => make(host, { resyncSchedule: 'every minute' }), { message: /cron/ });
});
