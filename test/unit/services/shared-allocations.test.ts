// ClusterIPs and NodePorts unique across servers: two registries (two servers) on one store, each
// allocating through compare-and-swap of the shared state; and the repair's pure plan.

import test from 'ava';
import type { Service, ServiceSpec } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { Registry } from '../../../src/server/registry.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { ServiceAllocators } from '../../../src/services/service-admission.js';
import { planRepair, RANGE_ALLOCATIONS, SharedServiceAllocations } from '../../../src/services/shared-allocations.js';

const CIDR = '10.96.0.0/27'; // 30 usable addresses: .1 is the kubernetes Service's, .10 kube-dns's
const RANGE: [number, number] = [30000, 30039];

function svc(name: string, spec: Partial<ServiceSpec> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }], ...spec } };
}

async function servers(n: number) {
  const store = new MemoryStore();
  await store.open();
  const out = [];
  for (let i = 0; i < n; i++) {
    const registry = new Registry(store);
    await registry.bootstrapNamespaces();
    const shared = new SharedServiceAllocations(store, new ServiceAllocators({ serviceCIDR: CIDR, nodePortRange: RANGE, clusterDNS: '10.96.0.10' }));
    registry.addAdmission(shared.hook());
    out.push({ registry, shared });
  }
  return { store, servers: out };
}

test('two servers creating Services at once never hand out one address or port twice', async (t) => {
  const { store, servers: [a, b] } = await servers(2);
  const made = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? a! : b!).registry.create<Service>(R.services, svc(`s${i}`, { type: 'NodePort' }))));
  const ips = made.map((s) => s.spec.clusterIP);
  const ports = made.map((s) => s.spec.ports![0]!.nodePort);
  t.is(new Set(ips).size, 24);
  t.is(new Set(ports).size, 24);
  t.false(ips.includes('10.96.0.1') || ips.includes('10.96.0.10'), 'reserved addresses stay reserved');
  const state = (await store.get(RANGE_ALLOCATIONS, undefined, 'services')) as unknown as { ips: Record<string, string>; ports: Record<string, string> };
  t.is(Object.keys(state.ips).length, 24);
  t.deepEqual(new Set(Object.values(state.ips)), new Set(made.map((s) => s.metadata.uid)));
});

test('an address one server gave back is free for the other; an explicit one held elsewhere is refused', async (t) => {
  const { servers: [a, b] } = await servers(2);
  const one = await a!.registry.create<Service>(R.services, svc('one', { clusterIP: '10.96.0.20' }));
  t.is(one.spec.clusterIP, '10.96.0.20');
  const taken = await t.throwsAsync(b!.registry.create(R.services, svc('two', { clusterIP: '10.96.0.20' })));
  t.regex(taken!.message, /already allocated/);
  await a!.registry.delete(R.services, 'default', 'one');
  // The release is written after the delete commits.
  for (let i = 0; i < 50; i++) {
    try {
      const two = await b!.registry.create<Service>(R.services, svc('two', { clusterIP: '10.96.0.20' }));
      t.is(two.spec.clusterIP, '10.96.0.20');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  t.fail('the released address never became free');
});

test('the state starts from the stored Services (a migrated store), and the repair frees only leaks seen twice', async (t) => {
  const store = new MemoryStore();
  await store.open();
  const plain = new Registry(store);
  await plain.bootstrapNamespaces();
  await store.create(R.services, { ...svc('old'), metadata: { name: 'old', namespace: 'default', uid: 'u-old' }, spec: { ...svc('old').spec, clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'] } });
  const registry = new Registry(store);
  const shared = new SharedServiceAllocations(store, new ServiceAllocators({ serviceCIDR: CIDR, nodePortRange: RANGE }));
  registry.addAdmission(shared.hook());
  const refused = await t.throwsAsync(registry.create(R.services, svc('new', { clusterIP: '10.96.0.5' })));
  t.regex(refused!.message, /already allocated/);

  const plan1 = planRepair({ ips: { '10.96.0.5': 'u-old', '10.96.0.7': 'u-gone' }, ports: { '30001': 'u-gone' } }, { ips: { '10.96.0.5': 'u-old', '10.96.0.9': 'u-new' }, ports: {} }, new Set());
  t.deepEqual(plan1.next.ips, { '10.96.0.5': 'u-old', '10.96.0.7': 'u-gone', '10.96.0.9': 'u-new' });
  t.deepEqual(plan1.adopted, ['ip 10.96.0.9']);
  t.deepEqual(plan1.freed, []);
  const plan2 = planRepair(plan1.next, { ips: { '10.96.0.5': 'u-old', '10.96.0.9': 'u-new' }, ports: {} }, plan1.leaked);
  t.deepEqual(plan2.next, { ips: { '10.96.0.5': 'u-old', '10.96.0.9': 'u-new' }, ports: {} });
  t.deepEqual(plan2.freed.sort(), ['ip 10.96.0.7', 'port 30001']);
});
