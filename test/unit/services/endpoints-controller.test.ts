// The Endpoints/EndpointSlice and LoadBalancer controllers against the real registry (MemoryStore) and
// shared informers: no HTTP, no Docker, no root.

import test from 'ava';
import type { EndpointSlice, Endpoints, Node, Pod, Service, ServiceSpec } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { isStatusError } from '../../../src/api/errors.js';
import { Registry } from '../../../src/server/registry.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import { InformerFactory } from '../../../src/client/informer.js';
import { silentLogger } from '../../../src/util/log.js';
import { EndpointsController } from '../../../src/services/endpoints-controller.js';
import { LoadBalancerController } from '../../../src/services/loadbalancer.js';
import { ServiceAllocators } from '../../../src/services/service-admission.js';
import { ENDPOINTS_MANAGED_BY, ENDPOINTS_MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from '../../../src/services/endpoints.js';

async function harness(t: import('ava').ExecutionContext, opts: { lbPool?: string; fallback?: string[]; withEndpoints?: boolean; withLB?: boolean; registry?: Registry } = {}) {
  let registry = opts.registry;
  if (!registry) {
    const store = new MemoryStore();
    await store.open();
    registry = new Registry(store);
    await registry.bootstrapNamespaces();
    const alloc = new ServiceAllocators({ serviceCIDR: '10.96.0.0/12', nodePortRange: [30000, 32767] });
    registry.addAdmission(alloc.hook());
  }
  const informers = new InformerFactory(registry);
  const deps = { client: registry, informers, logger: silentLogger() };
  const ep = new EndpointsController();
  const lb = new LoadBalancerController({ lbPool: opts.lbPool, fallbackIPs: () => opts.fallback ?? ['192.0.2.99'] });
  if (opts.withEndpoints ?? true) await ep.start(deps);
  if (opts.withLB ?? true) await lb.start(deps);
  t.teardown(async () => {
    await ep.stop();
    await lb.stop();
    informers.stop();
  });
  return { registry, ep, lb, informers };
}

function svc(name: string, spec: Partial<ServiceSpec> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec } };
}

function pod(name: string, app: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app } },
    spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'kubelite/echo:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
  };
}

async function setStatus(registry: Registry, name: string, ip: string, ready: boolean): Promise<Pod> {
  const p = await registry.get<Pod>(R.pods, 'default', name);
  p.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  return registry.update(R.pods, p, { subresource: 'status' });
}

async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 3000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function endpointsOf(registry: Registry, name: string): Promise<Endpoints | undefined> {
  try {
    return await registry.get<Endpoints>(R.endpoints, 'default', name);
  } catch (err) {
    if (isStatusError(err, 'NotFound')) return undefined;
    throw err;
  }
}

function readyIPs(ep: Endpoints | undefined): string[] {
  return (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
}

function notReadyIPs(ep: Endpoints | undefined): string[] {
  return (ep?.subsets ?? []).flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip)).sort();
}

async function slicesOf(registry: Registry, name: string): Promise<EndpointSlice[]> {
  return (await registry.list<EndpointSlice>(R.endpointslices, { namespace: 'default', labelSelector: `${SERVICE_NAME_LABEL}=${name}` })).items;
}

test('ready pods join at once, unready and terminating ones leave at once, deleted ones go', async (t) => {
  const { registry } = await harness(t);
  await registry.create(R.services, svc('web'));
  for (const [n, ip] of [['a', '10.244.0.11'], ['b', '10.244.0.12'], ['c', '10.244.0.13']] as const) {
    await registry.create(R.pods, pod(n, 'web'));
    await setStatus(registry, n, ip, true);
  }
  await until(async () => readyIPs(await endpointsOf(registry, 'web')).length === 3, '3 endpoints');
  t.deepEqual(readyIPs(await endpointsOf(registry, 'web')), ['10.244.0.11', '10.244.0.12', '10.244.0.13']);
  const slices = await until(async () => {
    const s = await slicesOf(registry, 'web');
    return s.length === 1 && s[0].endpoints.length === 3 && s;
  }, 'a slice with 3 endpoints');
  t.deepEqual(slices[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);

  // Unready: moves to notReadyAddresses within a few ms of the status write.
  const t0 = performance.now();
  await setStatus(registry, 'b', '10.244.0.12', false);
  await until(async () => notReadyIPs(await endpointsOf(registry, 'web')).includes('10.244.0.12'), 'b not ready', 1000);
  const ms = performance.now() - t0;
  t.log(`unready -> notReadyAddresses in ${ms.toFixed(0)} ms`);
  t.deepEqual(readyIPs(await endpointsOf(registry, 'web')), ['10.244.0.11', '10.244.0.13']);

  // Terminating (graceful delete of a pod bound to a node): out of the Endpoints, terminating in the slice.
  await registry.delete(R.pods, 'default', 'c', { gracePeriodSeconds: 30 });
  await until(async () => !readyIPs(await endpointsOf(registry, 'web')).includes('10.244.0.13'), 'c gone from Endpoints');
  t.deepEqual(notReadyIPs(await endpointsOf(registry, 'web')), ['10.244.0.12']);
  const term = await until(async () => (await slicesOf(registry, 'web'))[0]?.endpoints.find((e) => e.addresses[0] === '10.244.0.13' && e.conditions?.terminating), 'c terminating in the slice');
  t.deepEqual(term.conditions, { ready: false, serving: true, terminating: true });

  // Deleted outright.
  await registry.delete(R.pods, 'default', 'a', { gracePeriodSeconds: 0 });
  await until(async () => readyIPs(await endpointsOf(registry, 'web')).length === 0, 'a gone');
  // A new ready pod joins.
  await registry.create(R.pods, pod('d', 'web'));
  await setStatus(registry, 'd', '10.244.0.14', true);
  await until(async () => readyIPs(await endpointsOf(registry, 'web')).includes('10.244.0.14'), 'd joins');
});

test('a pod whose labels stop matching leaves; one whose labels start matching joins', async (t) => {
  const { registry } = await harness(t);
  await registry.create(R.services, svc('web'));
  await registry.create(R.pods, pod('a', 'web'));
  await setStatus(registry, 'a', '10.244.0.21', true);
  await until(async () => readyIPs(await endpointsOf(registry, 'web')).length === 1, 'a joins');
  await registry.patch(R.pods, 'default', 'a', 'merge', { metadata: { labels: { app: 'other' } } });
  await until(async () => readyIPs(await endpointsOf(registry, 'web')).length === 0, 'a leaves');
  await registry.patch(R.pods, 'default', 'a', 'merge', { metadata: { labels: { app: 'web' } } });
  await until(async () => readyIPs(await endpointsOf(registry, 'web')).length === 1, 'a back');
  t.deepEqual(readyIPs(await endpointsOf(registry, 'web')), ['10.244.0.21']);
});

test('writes only when something changed', async (t) => {
  const { registry, ep } = await harness(t);
  await registry.create(R.services, svc('web'));
  await registry.create(R.pods, pod('a', 'web'));
  await setStatus(registry, 'a', '10.244.0.31', true);
  const first = await until(async () => {
    const e = await endpointsOf(registry, 'web');
    return readyIPs(e).length === 1 && e;
  }, 'endpoints');
  await ep.idle();
  // A status change that cannot move an endpoint (startTime), and a Service change that does not either.
  const p = await registry.get<Pod>(R.pods, 'default', 'a');
  await registry.update(R.pods, { ...p, status: { ...p.status, startTime: '2024-01-01T00:00:00Z' } }, { subresource: 'status' });
  await registry.patch(R.services, 'default', 'web', 'merge', { metadata: { annotations: { note: 'x' } } });
  await new Promise((r) => setTimeout(r, 50));
  await ep.idle();
  const after = await endpointsOf(registry, 'web');
  t.is(after?.metadata.resourceVersion, first.metadata.resourceVersion);
});

test('Services without a selector keep hand-written Endpoints; a hand edit of managed ones is repaired', async (t) => {
  const { registry, ep } = await harness(t);
  await registry.create(R.services, { ...svc('ext'), spec: { ports: [{ port: 80 }] } });
  const manual: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'ext', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ port: 80 }] }] };
  await registry.create(R.endpoints, manual);
  await new Promise((r) => setTimeout(r, 50));
  await ep.idle();
  t.deepEqual(readyIPs(await endpointsOf(registry, 'ext')), ['10.9.9.9']);
  t.deepEqual(await slicesOf(registry, 'ext'), []);

  await registry.create(R.services, svc('web'));
  await registry.create(R.pods, pod('a', 'web'));
  await setStatus(registry, 'a', '10.244.0.41', true);
  await until(async () => readyIPs(await endpointsOf(registry, 'web')).length === 1, 'web endpoints');
  const e = (await endpointsOf(registry, 'web'))!;
  await registry.update(R.endpoints, { ...e, subsets: [{ addresses: [{ ip: '10.6.6.6' }], ports: [{ name: 'http', port: 1 }] }] });
  await until(async () => readyIPs(await endpointsOf(registry, 'web'))[0] === '10.244.0.41', 'repaired');
  await registry.delete(R.endpoints, 'default', 'web');
  await until(async () => readyIPs(await endpointsOf(registry, 'web'))[0] === '10.244.0.41', 're-created');
  t.deepEqual(readyIPs(await endpointsOf(registry, 'ext')), ['10.9.9.9'], 'the hand-written Endpoints are still untouched');
});

test('deleting a Service deletes its Endpoints and EndpointSlices', async (t) => {
  const { registry } = await harness(t);
  await registry.create(R.services, svc('web'));
  await registry.create(R.pods, pod('a', 'web'));
  await setStatus(registry, 'a', '10.244.0.51', true);
  await until(async () => (await slicesOf(registry, 'web')).length === 1 && readyIPs(await endpointsOf(registry, 'web')).length === 1, 'endpoints');
  await registry.delete(R.services, 'default', 'web');
  await until(async () => !(await endpointsOf(registry, 'web')) && (await slicesOf(registry, 'web')).length === 0, 'all gone');
  t.is(await endpointsOf(registry, 'web'), undefined);
});

test('at start: orphaned managed Endpoints are removed, foreign ones (a selector-less Service not created yet) stay', async (t) => {
  const store = new MemoryStore();
  await store.open();
  const registry = new Registry(store);
  await registry.bootstrapNamespaces();
  await registry.create(R.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'gone', namespace: 'default', labels: { [ENDPOINTS_MANAGED_BY_LABEL]: ENDPOINTS_MANAGED_BY } } } as Endpoints);
  await registry.create(R.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kube-dns', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.0.1' }], ports: [{ port: 53 }] }] } as Endpoints);
  await harness(t, { registry, withLB: false });
  await until(async () => !(await endpointsOf(registry, 'gone')), 'orphan removed');
  t.truthy(await endpointsOf(registry, 'kube-dns'));
});

test('LoadBalancer without a pool: the nodes\' InternalIPs, the fallback without nodes', async (t) => {
  const { registry } = await harness(t, { withEndpoints: false, fallback: ['192.0.2.50'] });
  await registry.create(R.services, svc('lb', { type: 'LoadBalancer' }));
  const s1 = await until(async () => {
    const s = await registry.get<Service>(R.services, 'default', 'lb');
    return s.status?.loadBalancer?.ingress?.length ? s : undefined;
  }, 'ingress');
  t.deepEqual(s1.status?.loadBalancer?.ingress, [{ ip: '192.0.2.50', ipMode: 'VIP' }]);
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.7' }, { type: 'Hostname', address: 'node1' }] } };
  await registry.create(R.nodes, node);
  await until(async () => (await registry.get<Service>(R.services, 'default', 'lb')).status?.loadBalancer?.ingress?.[0]?.ip === '192.0.2.7', 'node IP');
  // Type changes away: the status is cleared.
  await registry.patch(R.services, 'default', 'lb', 'merge', { spec: { type: 'ClusterIP' } });
  await until(async () => !(await registry.get<Service>(R.services, 'default', 'lb')).status?.loadBalancer?.ingress, 'cleared');
  t.deepEqual((await registry.get<Service>(R.services, 'default', 'lb')).status?.loadBalancer, {});
});

test('LoadBalancer with a pool: one address each, loadBalancerIP honoured, released on delete and type change', async (t) => {
  const { registry, lb } = await harness(t, { withEndpoints: false, lbPool: '10.55.0.0/30' });
  const ingressOf = async (n: string) => (await registry.get<Service>(R.services, 'default', n)).status?.loadBalancer?.ingress?.map((i) => i.ip) ?? [];
  await registry.create(R.services, svc('want2', { type: 'LoadBalancer', loadBalancerIP: '10.55.0.2' }));
  await until(async () => (await ingressOf('want2'))[0] === '10.55.0.2', 'requested address');
  await registry.create(R.services, svc('any', { type: 'LoadBalancer' }));
  await until(async () => (await ingressOf('any'))[0] === '10.55.0.1', 'the other address');
  // The pool (/30: .1 and .2) is full: the third one waits, with a Warning event.
  await registry.create(R.services, svc('third', { type: 'LoadBalancer' }));
  await lb.idle();
  t.deepEqual(await ingressOf('third'), []);
  await registry.delete(R.services, 'default', 'want2');
  await until(async () => (await ingressOf('third'))[0] === '10.55.0.2', 'freed address reused');
  await registry.patch(R.services, 'default', 'any', 'merge', { spec: { type: 'ClusterIP' } });
  await until(async () => (await ingressOf('any')).length === 0, 'status cleared');
  await registry.create(R.services, svc('fourth', { type: 'LoadBalancer', loadBalancerIP: '10.55.0.1' }));
  await until(async () => (await ingressOf('fourth'))[0] === '10.55.0.1', 'released by type change');
  t.deepEqual(await ingressOf('third'), ['10.55.0.2']);
});

test('LoadBalancer pool is rebuilt from status after a restart', async (t) => {
  const first = await harness(t, { withEndpoints: false, lbPool: '10.55.1.0/29' });
  const { registry } = first;
  await registry.create(R.services, svc('a', { type: 'LoadBalancer' }));
  await registry.create(R.services, svc('b', { type: 'LoadBalancer' }));
  const ips = async () => (await registry.list<Service>(R.services)).items.flatMap((s) => s.status?.loadBalancer?.ingress?.map((i) => i.ip) ?? []);
  await until(async () => (await ips()).length === 2, 'two addresses');
  const before = await ips();
  await first.lb.stop();
  first.informers.stop();
  const second = await harness(t, { registry, withEndpoints: false, lbPool: '10.55.1.0/29' });
  await registry.create(R.services, svc('c', { type: 'LoadBalancer' }));
  await until(async () => (await ips()).length === 3, 'three addresses');
  const after = await ips();
  t.is(new Set(after).size, 3);
  t.true(before.every((ip) => after.includes(ip)));
  await second.lb.idle();
});
