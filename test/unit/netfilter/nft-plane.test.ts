// The Proxier in nftables mode against a simulated kernel (no root): one transaction per sync, only the
// difference on partial syncs and never a listing of the table on the hot path; a refused transaction
// keeps the previous table, is counted, and makes the next sync a full render; a restart adopts the
// table in place; a full resync repairs hand-made damage; switching modes leaves nothing of the other.

import test from 'ava';
import client from 'prom-client';
import type { Endpoints, Service, ServiceSpec } from '../../../src/api/types.js';
import { hostNames } from '../../../src/config.js';
import { buildProxyModel } from '../../../src/netfilter/model.js';
import { chainNames } from '../../../src/netfilter/names.js';
import { NFT, nftNames } from '../../../src/netfilter/nft-names.js';
import { renderNft } from '../../../src/netfilter/nft-render.js';
import { diffNft, isEmptyNftDiff } from '../../../src/netfilter/nft-script.js';
import { kernelNeedsDeferredDeletes } from '../../../src/netfilter/nft-plane.js';
import { Proxier } from '../../../src/netfilter/proxier.js';
import { FakeHost } from './fake-host.js';

const names = hostNames({ instance: 'unit2' });
const nn = nftNames(names);
const TABLE = 'kubelite-unit2';
const CFG = { names, podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' };

function svc(name: string, spec: ServiceSpec): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'u', name }, spec };
}
function eps(name: string, ips: string[]): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'u', name }, subsets: ips.length ? [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'p', port: 8080 }] }] : [] };
}
const services = () => [
  svc('web', { clusterIP: '10.96.0.20', ports: [{ name: 'p', port: 80 }] }),
  svc('np', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ name: 'p', port: 80, nodePort: 30001 }] }),
];

function make(host: FakeHost, logs: string[] = []): Proxier {
  return new Proxier({
    mode: 'nftables',
    ...CFG,
    nodeIPs: ['192.0.2.2'],
    resyncSchedule: '0 0 1 1 *',
    host,
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
  });
}

/** True when the fake kernel's table is exactly what the renderer wants for these inputs. */
function kernelEquals(host: FakeHost, svcs: Service[], endpoints: Endpoints[]): boolean {
  const t = host.table(TABLE);
  if (!t) return false;
  const want = renderNft(buildProxyModel(svcs, endpoints, { serviceCIDR: CFG.serviceCIDR }), CFG).state;
  return isEmptyNftDiff(diffNft(t.state, want));
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = client.register.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value ?? 0;
}

test('first start loads the whole table in one transaction; a change sends only the difference, without listing the table', async (t) => {
  const host = new FakeHost();
  const p = make(host);
  t.is(p.mode, 'nftables');
  p.setServices(services());
  p.setEndpoints([eps('web', ['10.244.0.5', '10.244.0.6']), eps('np', ['10.244.0.7'])]);
  const first = await p.start();
  t.teardown(() => p.stop());
  t.true(first.ok, first.error?.message);
  t.true(first.fullRender);
  t.is(host.applied.length, 1);
  t.true(host.applied[0].startsWith(`table ip ${TABLE}\ndelete table ip ${TABLE}\ntable ip ${TABLE} {`));
  t.true(kernelEquals(host, services(), [eps('web', ['10.244.0.5', '10.244.0.6']), eps('np', ['10.244.0.7'])]));
  t.is(host.listTableCalls, 0, 'no table to adopt: nothing listed');

  const listsBefore = host.listTableCalls + host.listChainsCalls;
  p.upsertEndpoints(eps('web', ['10.244.0.5', '10.244.0.8']));
  const r = await p.waitForSync();
  t.true(r.ok);
  t.false(r.full);
  t.is(host.applied.length, 2);
  const svcChain = nn.serviceChain('svc', 'u/web:p', 'TCP');
  t.deepEqual(host.applied[1].trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')), [
    'flush chain',
    'add rule',
    'add rule',
    'delete element',
    'add element',
  ]);
  t.true(host.applied[1].includes(svcChain));
  t.is(r.chainsWritten, 1);
  t.is(r.rulesWritten, 2);
  t.is(r.elementsWritten, 2);
  t.is(host.listTableCalls + host.listChainsCalls, listsBefore, 'the hot path never lists the kernel');
  t.true(kernelEquals(host, services(), [eps('web', ['10.244.0.5', '10.244.0.8']), eps('np', ['10.244.0.7'])]));

  // Nothing changed: nothing sent.
  const noop = await p.waitForSync();
  t.true(noop.ok);
  t.is(host.applied.length, 2);
});

test('a refused transaction keeps the previous table, is logged and counted, and the next sync renders the whole table', async (t) => {
  const host = new FakeHost();
  const logs: string[] = [];
  const p = make(host, logs);
  p.setServices(services());
  p.setEndpoints([eps('web', ['10.244.0.5']), eps('np', ['10.244.0.7'])]);
  await p.start();
  t.teardown(() => p.stop());
  const before = structuredClone([...host.table(TABLE)!.state.chains]);
  const errorsBefore = await metricValue('kubelite_proxy_sync_errors_total', { mode: 'nftables' });
  host.nftFailures = 1;
  p.upsertEndpoints(eps('web', ['10.244.0.6']));
  const failed = await p.waitForSync();
  t.false(failed.ok);
  t.regex(failed.error!.message, /Device or resource busy/);
  t.deepEqual([...host.table(TABLE)!.state.chains], before, 'the previous table stays in force');
  t.true(logs.some((l) => l.includes('previous rules stay in force')));
  t.is(await metricValue('kubelite_proxy_sync_errors_total', { mode: 'nftables' }), errorsBefore + 1);
  const fullBefore = await metricValue('kubelite_proxy_full_renders_total', { mode: 'nftables', reason: 'refused' });
  // The retry comes by itself after the back-off, as a full render.
  const retried = await p.waitForSync();
  t.true(retried.ok, retried.error?.message);
  t.true(retried.fullRender);
  t.true(host.applied.at(-1)!.startsWith(`table ip ${TABLE}\ndelete table ip ${TABLE}\n`));
  t.true(kernelEquals(host, services(), [eps('web', ['10.244.0.6']), eps('np', ['10.244.0.7'])]));
  t.is(await metricValue('kubelite_proxy_full_renders_total', { mode: 'nftables', reason: 'refused' }), fullBefore + 1);
  // Back to partial syncs afterwards.
  p.upsertEndpoints(eps('web', ['10.244.0.5']));
  const after = await p.waitForSync();
  t.true(after.ok);
  t.falsy(after.fullRender);
});

test('a restarted proxier adopts the table in place: it reads it once and writes nothing', async (t) => {
  const host = new FakeHost();
  const inputs = [eps('web', ['10.244.0.5']), eps('np', ['10.244.0.7'])];
  const p1 = make(host);
  p1.setServices(services());
  p1.setEndpoints(inputs);
  await p1.start();
  await p1.stop();
  const applied = host.applied.length;
  const p2 = make(host);
  p2.setServices(services());
  p2.setEndpoints(inputs);
  const r = await p2.start();
  t.teardown(() => p2.stop());
  t.true(r.ok, r.error?.message);
  t.is(host.applied.length, applied, 'nothing written');
  t.is(host.listTableCalls, 1);
  // A different model on restart: only the difference.
  await p2.stop();
  const p3 = make(host);
  p3.setServices(services());
  p3.setEndpoints([eps('web', ['10.244.0.9']), eps('np', ['10.244.0.7'])]);
  const r3 = await p3.start();
  t.teardown(() => p3.stop());
  t.true(r3.ok);
  t.falsy(r3.fullRender);
  t.false(host.applied.at(-1)!.includes('delete table'));
  t.true(kernelEquals(host, services(), [eps('web', ['10.244.0.9']), eps('np', ['10.244.0.7'])]));
});

test('a full resync repairs hand-made damage: a deleted element, an emptied chain, an extra chain, a deleted table', async (t) => {
  const host = new FakeHost();
  const logs: string[] = [];
  const p = make(host, logs);
  const inputs = [eps('web', ['10.244.0.5', '10.244.0.6']), eps('np', ['10.244.0.7'])];
  p.setServices(services());
  p.setEndpoints(inputs);
  await p.start();
  t.teardown(() => p.stop());
  const clean = await p.fullResync();
  t.true(clean.ok);
  t.is(clean.chainsWritten + clean.chainsDeleted + (clean.elementsWritten ?? 0), 0, 'nothing to repair');

  const tbl = host.table(TABLE)!;
  tbl.state.maps[NFT.serviceIPs].delete('10.96.0.20 . tcp . 80');
  (tbl.state.chains.get(nn.serviceChain('svc', 'u/np:p', 'TCP')) as { rules: string[] }).rules = [];
  tbl.state.chains.set('svc-AAAAAAAA-x/y/tcp/z', { rules: ['counter'] });
  const r = await p.fullResync();
  t.true(r.ok, r.error?.message);
  t.falsy(r.fullRender);
  t.is(r.chainsWritten, 1);
  t.is(r.chainsDeleted, 1);
  t.true((r.elementsWritten ?? 0) >= 1);
  t.true(kernelEquals(host, services(), inputs));
  t.true(logs.some((l) => /full resync repaired the nftables table/.test(l)), logs.join('\n'));

  host.nft.delete(TABLE);
  const r2 = await p.fullResync();
  t.true(r2.ok);
  t.true(r2.fullRender);
  t.true(kernelEquals(host, services(), inputs));
  t.true(logs.some((l) => /rewrote the whole nftables table \(it was gone\)/.test(l)));
});

test('the whole-table read-back runs at a rate bounded by its cost; the chain fingerprint runs every time', async (t) => {
  const host = new FakeHost();
  const p = make(host);
  p.setServices(services());
  p.setEndpoints([eps('web', ['10.244.0.5']), eps('np', ['10.244.0.7'])]);
  await p.start();
  t.teardown(() => p.stop());
  // Make listing look expensive: ~50 ms each means at most one read-back every ~5 s.
  const list = host.nftListTable.bind(host);
  host.nftListTable = async (name: string) => {
    await new Promise((r) => setTimeout(r, 50));
    return list(name);
  };
  await p.fullResync(); // the first read-back (none has been costed yet)
  const tables = host.listTableCalls;
  const chains = host.listChainsCalls;
  for (let i = 0; i < 3; i++) t.true((await p.fullResync()).ok);
  t.is(host.listTableCalls, tables, 'no whole-table read-back within the cost budget');
  t.is(host.listChainsCalls, chains + 3);
  // A fingerprint mismatch (a chain gone) reads the table at once, whatever the budget.
  host.table(TABLE)!.state.chains.delete(nn.serviceChain('ext', 'u/np:p', 'TCP'));
  host.table(TABLE)!.state.maps[NFT.serviceNodePorts].clear();
  const r = await p.fullResync();
  t.true(r.ok);
  t.is(host.listTableCalls, tables + 1);
  t.is(r.chainsWritten, 1);
});

test('switching from iptables: the iptables mode chains go, the forward accept chain and its jump stay', async (t) => {
  const host = new FakeHost();
  const cn = chainNames(names);
  const old = cn.servicePortChain('SVC', 'u/old:p', 'TCP');
  host.tables.nat.set(cn.services, [`-A KUBELITE-UNIT2-SERVICES -j ${old}`]);
  host.tables.nat.set(old, []);
  host.tables.nat.set('PREROUTING', ['-A PREROUTING -m comment --comment "kubelite service portals" -j KUBELITE-UNIT2-SERVICES']);
  host.tables.nat.set('KUBELITE-OTHER-SERVICES', []);
  host.tables.filter.set(cn.forward, []);
  const logs: string[] = [];
  const p = make(host, logs);
  p.setServices(services());
  p.setEndpoints([eps('web', ['10.244.0.5'])]);
  const r = await p.start();
  t.teardown(() => p.stop());
  t.true(r.ok, r.error?.message);
  t.deepEqual([...host.tables.nat.keys()].sort(), ['KUBELITE-OTHER-SERVICES', 'PREROUTING']);
  t.deepEqual(host.tables.nat.get('PREROUTING'), []);
  t.is(host.tables.filter.get(cn.forward)!.length, 3, 'the forward chain written');
  t.true(host.jumpChecks.every((j) => j.forwardOnly));
  t.true(logs.some((l) => /removed 2 iptables chain\(s\) of the iptables mode/.test(l)));
});

test('switching to iptables: the nftables table goes once the iptables rules are in place', async (t) => {
  const host = new FakeHost();
  const nftP = make(host);
  nftP.setServices(services());
  await nftP.start();
  await nftP.stop();
  t.truthy(host.table(TABLE));
  const p = new Proxier({ mode: 'iptables', ...CFG, nodeIPs: [], resyncSchedule: '0 0 1 1 *', host });
  p.setServices(services());
  const r = await p.start();
  t.teardown(() => p.stop());
  t.true(r.ok, r.error?.message);
  t.is(host.table(TABLE), undefined);
  t.deepEqual(host.deletedTables, [TABLE]);
  t.true(host.tables.nat.has(chainNames(names).services));
});

test('an unknown mode is refused at construction', (t) => {
  t.throws(() => new Proxier({ mode: 'ipvs' as 'nftables', ...CFG, nodeIPs: [], host: new FakeHost() }), { message: /proxy mode "ipvs"/ });
});

test('kernels before 6.2: a removed Service\'s chains are emptied at once and deleted by a sync a second later', async (t) => {
  const host = new FakeHost();
  let clock = 0;
  const p = new Proxier({ mode: 'nftables', ...CFG, nodeIPs: [], resyncSchedule: '0 0 1 1 *', host, nft: { deferChainDeletes: true, now: () => clock } });
  p.setServices(services());
  p.setEndpoints([eps('web', ['10.244.0.5']), eps('np', ['10.244.0.7'])]);
  await p.start();
  t.teardown(() => p.stop());
  const np = [nn.serviceChain('svc', 'u/np:p', 'TCP'), nn.serviceChain('ext', 'u/np:p', 'TCP')];
  p.deleteService('u/np');
  const r1 = await p.waitForSync();
  t.true(r1.ok, r1.error?.message);
  const script1 = host.applied.at(-1)!;
  t.true(np.every((c) => script1.includes(`flush chain ip ${TABLE} ${c}`)));
  t.false(script1.includes('delete chain'), 'not deleted in the transaction that removed their map elements');
  for (const c of np) t.deepEqual(host.table(TABLE)!.state.chains.get(c)?.rules, []);
  // Within the second: nothing more to do for them.
  clock = 500;
  p.upsertEndpoints(eps('web', ['10.244.0.6']));
  t.true((await p.waitForSync()).ok);
  t.false(host.applied.at(-1)!.includes('delete chain'));
  // After it: the next sync deletes them, without flushing again.
  clock = 1500;
  p.upsertEndpoints(eps('web', ['10.244.0.5']));
  t.true((await p.waitForSync()).ok);
  const script3 = host.applied.at(-1)!;
  t.true(np.every((c) => script3.includes(`delete chain ip ${TABLE} ${c}`) && !script3.includes(`flush chain ip ${TABLE} ${c}`)));
  t.true(np.every((c) => !host.table(TABLE)!.state.chains.has(c)));
  // And a full resync then finds the kernel exactly as wanted.
  const r = await p.fullResync();
  t.is(r.chainsWritten + r.chainsDeleted, 0);
});

test('the kernel release decides whether chain deletes wait', (t) => {
  t.true(kernelNeedsDeferredDeletes('6.1.0-18-amd64'));
  t.true(kernelNeedsDeferredDeletes('5.15.0-91-generic'));
  t.false(kernelNeedsDeferredDeletes('6.2.0'));
  t.false(kernelNeedsDeferredDeletes('6.18.44-fc-v1300'));
});
