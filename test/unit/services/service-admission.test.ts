// ClusterIP / NodePort allocation through the real registry (defaulting, validation, admission, store).

import test from 'ava';
import type { Service, ServiceSpec } from '../../../src/api/types.js';
import { R } from '../../../src/api/resources.js';
import { isStatusError } from '../../../src/api/errors.js';
import { Registry } from '../../../src/server/registry.js';
import { openStore } from '../../../src/store/index.js';
import type { Store } from '../../../src/store/types.js';
import { externalIPsRefusal, ServiceAllocators } from '../../../src/services/service-admission.js';
import { tempDir } from '../../helpers/store-fixtures.js';

const CIDR = '10.96.0.0/12';
const RANGE: [number, number] = [30000, 32767];

async function cluster(store?: Store, cfg: { serviceCIDR?: string; nodePortRange?: [number, number]; allowedExternalIPs?: string[] } = {}) {
  const s = store ?? (await openStore(undefined));
  const registry = new Registry(s);
  await registry.bootstrapNamespaces();
  const alloc = new ServiceAllocators({ serviceCIDR: cfg.serviceCIDR ?? CIDR, nodePortRange: cfg.nodePortRange ?? RANGE, clusterDNS: '10.96.0.10', allowedExternalIPs: cfg.allowedExternalIPs });
  registry.addAdmission(alloc.hook());
  alloc.rebuild((await registry.list<Service>(R.services)).items);
  return { store: s, registry, alloc };
}

function svc(name: string, spec: Partial<ServiceSpec> = {}, namespace = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }], ...spec } };
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isStatusError(err)) return err.status.message!;
    throw err;
  }
  throw new Error('expected the write to be refused');
}

test('a new Service gets a cluster IP from the range; clusterIPs mirrors it', async (t) => {
  const { registry } = await cluster();
  const s = await registry.create(R.services, svc('web'));
  t.regex(s.spec.clusterIP!, /^10\.(9[6-9]|10\d|11[01])\./);
  t.deepEqual(s.spec.clusterIPs, [s.spec.clusterIP]);
  t.not(s.spec.clusterIP, '10.96.0.1');
  t.not(s.spec.clusterIP, '10.96.0.10');
});

test('explicit clusterIP honoured when free; taken and out-of-range ones are refused with Kubernetes messages', async (t) => {
  const { registry } = await cluster();
  const a = await registry.create(R.services, svc('a', { clusterIP: '10.96.0.5' }));
  t.is(a.spec.clusterIP, '10.96.0.5');
  t.is(await rejection(registry.create(R.services, svc('b', { clusterIP: '10.96.0.5' }))), 'Service "b" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.5": provided IP is already allocated');
  t.is(
    await rejection(registry.create(R.services, svc('c', { clusterIP: '1.2.3.4' }))),
    'Service "c" is invalid: spec.clusterIPs[0]: Invalid value: "1.2.3.4": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12',
  );
  // Reserved: the kubernetes Service's address and the cluster DNS address.
  t.regex(await rejection(registry.create(R.services, svc('d', { clusterIP: '10.96.0.1' }))), /provided IP is already allocated/);
  t.regex(await rejection(registry.create(R.services, svc('e', { clusterIP: '10.96.0.10' }))), /provided IP is already allocated/);
  const dns = await registry.create(R.services, svc('kube-dns', { clusterIP: '10.96.0.10', selector: undefined }, 'kube-system'));
  t.is(dns.spec.clusterIP, '10.96.0.10');
});

test('headless and ExternalName Services hold no address', async (t) => {
  const { registry, alloc } = await cluster();
  const h = await registry.create(R.services, svc('h', { clusterIP: 'None' }));
  t.is(h.spec.clusterIP, 'None');
  t.deepEqual(h.spec.clusterIPs, ['None']);
  const x = await registry.create(R.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'stripe' }, spec: { type: 'ExternalName', externalName: 'api.stripe.com' } } as Service);
  t.is(x.spec.clusterIP, undefined);
  t.is(alloc.ips.used, 0);
});

test('NodePort: explicit port honoured; taken or out of range refused; automatic ones from the range', async (t) => {
  const { registry } = await cluster();
  const np = await registry.create(R.services, svc('np', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30007 }] }));
  t.is(np.spec.ports![0].nodePort, 30007);
  t.is(
    await rejection(registry.create(R.services, svc('np2', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30007 }] }))),
    'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30007: provided port is already allocated',
  );
  t.is(
    await rejection(registry.create(R.services, svc('np3', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 40000 }] }))),
    'Service "np3" is invalid: spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
  );
  const auto = await registry.create(R.services, svc('auto', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] }));
  const ports = auto.spec.ports!.map((p) => p.nodePort!);
  t.true(ports.every((p) => p >= 30000 && p <= 32767));
  t.not(ports[0], ports[1]);
});

test('a refused Service gives back everything its admission took', async (t) => {
  const { registry, alloc } = await cluster();
  await registry.create(R.services, svc('np', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30007 }] }));
  const ipsBefore = alloc.ips.used;
  const portsBefore = alloc.ports.used;
  // Port 0 gets a node port, port 1 asks for a taken one: the whole write is refused, nothing leaks.
  await rejection(registry.create(R.services, svc('bad', { type: 'NodePort', clusterIP: '10.96.0.77', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30007 }] })));
  t.is(alloc.ips.used, ipsBefore);
  t.is(alloc.ports.used, portsBefore);
  const ok = await registry.create(R.services, svc('good', { clusterIP: '10.96.0.77' }));
  t.is(ok.spec.clusterIP, '10.96.0.77');
});

test('a Service that fails in the store (already exists) releases its allocation', async (t) => {
  const { registry, alloc } = await cluster();
  await registry.create(R.services, svc('dup', { clusterIP: '10.96.0.20' }));
  const used = alloc.ips.used;
  await rejection(registry.create(R.services, svc('dup', { clusterIP: '10.96.0.21' })));
  t.is(alloc.ips.used, used);
  t.is((await registry.create(R.services, svc('other', { clusterIP: '10.96.0.21' }))).spec.clusterIP, '10.96.0.21');
});

test('dry run allocates nothing', async (t) => {
  const { registry, alloc } = await cluster();
  const s = await registry.create(R.services, svc('dry', { clusterIP: '10.96.0.30' }), { dryRun: true });
  t.is(s.spec.clusterIP, '10.96.0.30');
  t.is(alloc.ips.used, 0);
  t.is((await registry.create(R.services, svc('real', { clusterIP: '10.96.0.30' }))).spec.clusterIP, '10.96.0.30');
});

test('delete releases the cluster IP and node ports', async (t) => {
  const { registry, alloc } = await cluster();
  await registry.create(R.services, svc('np', { type: 'NodePort', clusterIP: '10.96.0.40', ports: [{ name: 'http', port: 80, nodePort: 30040 }] }));
  await registry.delete(R.services, 'default', 'np');
  t.is(alloc.ips.used, 0);
  t.is(alloc.ports.used, 0);
  const again = await registry.create(R.services, svc('np2', { type: 'NodePort', clusterIP: '10.96.0.40', ports: [{ name: 'http', port: 80, nodePort: 30040 }] }));
  t.is(again.spec.ports![0].nodePort, 30040);
});

test('type changes: ClusterIP -> NodePort allocates, NodePort -> ClusterIP releases, -> ExternalName releases the IP', async (t) => {
  const { registry, alloc } = await cluster();
  const c = await registry.create(R.services, svc('t'));
  const ip = c.spec.clusterIP!;
  const n = await registry.patch<Service>(R.services, 'default', 't', 'merge', { spec: { type: 'NodePort' } });
  t.is(n.spec.clusterIP, ip);
  const port = n.spec.ports![0].nodePort!;
  t.true(port >= 30000);
  t.is(alloc.ports.ownerOf(port), n.metadata.uid);
  // Replacing without the nodePort keeps it (same port and protocol).
  const kept = await registry.patch<Service>(R.services, 'default', 't', 'merge', { metadata: { labels: { x: 'y' } } });
  t.is(kept.spec.ports![0].nodePort, port);
  const back = await registry.patch<Service>(R.services, 'default', 't', 'merge', { spec: { type: 'ClusterIP' } });
  t.is(back.spec.ports![0].nodePort, undefined);
  t.is(alloc.ports.used, 0);
  t.is(alloc.ips.ownerOf(ip), c.metadata.uid);
  const en = await registry.patch<Service>(R.services, 'default', 't', 'merge', { spec: { type: 'ExternalName', externalName: 'example.com', selector: null } });
  t.is(en.spec.clusterIP, undefined);
  t.is(alloc.ips.used, 0);
  const cip = await registry.patch<Service>(R.services, 'default', 't', 'merge', { spec: { type: 'ClusterIP', externalName: null } });
  t.truthy(cip.spec.clusterIP);
  t.is(alloc.ips.ownerOf(cip.spec.clusterIP!), c.metadata.uid);
});

test('changing an explicit nodePort moves the allocation', async (t) => {
  const { registry, alloc } = await cluster();
  await registry.create(R.services, svc('m', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30100 }] }));
  const s = await registry.get<Service>(R.services, 'default', 'm');
  s.spec.ports![0].nodePort = 30101;
  await registry.update(R.services, s);
  t.is(alloc.ports.ownerOf(30100), undefined);
  t.is(alloc.ports.ownerOf(30101), s.metadata.uid);
});

test('LoadBalancer: node ports unless allocateLoadBalancerNodePorts=false; healthCheckNodePort for Local', async (t) => {
  const { registry } = await cluster();
  const lb = await registry.create(R.services, svc('lb', { type: 'LoadBalancer' }));
  t.truthy(lb.spec.ports![0].nodePort);
  const nolb = await registry.create(R.services, svc('nolb', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }));
  t.is(nolb.spec.ports![0].nodePort, undefined);
  const local = await registry.create(R.services, svc('local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
  t.truthy(local.spec.healthCheckNodePort);
  t.not(local.spec.healthCheckNodePort, local.spec.ports![0].nodePort);
});

test('TCP and UDP on the same port share one node port', async (t) => {
  const { registry } = await cluster();
  const s = await registry.create(
    R.services,
    svc('dns', {
      type: 'NodePort',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    }),
  );
  t.is(s.spec.ports![0].nodePort, s.spec.ports![1].nodePort);
});

test('status writes do not touch allocations', async (t) => {
  const { registry, alloc } = await cluster();
  const s = await registry.create(R.services, svc('st', { type: 'LoadBalancer' }));
  const used = [alloc.ips.used, alloc.ports.used];
  await registry.update(R.services, { ...s, status: { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } } }, { subresource: 'status' });
  t.deepEqual([alloc.ips.used, alloc.ports.used], used);
});

test('exhaustion is a clear error', async (t) => {
  const { registry } = await cluster(undefined, { serviceCIDR: '10.200.0.0/29', nodePortRange: [30000, 30001] });
  // /29: .1 (kubernetes) reserved, .2-.6 free.
  for (let i = 0; i < 5; i++) await registry.create(R.services, svc(`s${i}`));
  t.is(await rejection(registry.create(R.services, svc('s5'))), 'Internal error occurred: failed to allocate a serviceIP: range is full');
  await registry.delete(R.services, 'default', 's0');
  await registry.create(R.services, svc('s5'));
  await registry.delete(R.services, 'default', 's1');
  await registry.delete(R.services, 'default', 's2');
  await registry.create(R.services, svc('n1', { type: 'NodePort', ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }] }));
  t.is(await rejection(registry.create(R.services, svc('n2', { type: 'NodePort' }))), 'Internal error occurred: failed to allocate a nodePort: range is full');
});

test('a restart rebuilds from the stored Services and never hands out an address or port twice', async (t) => {
  const dir = await tempDir(t, 'kubelite-svc-alloc-');
  const first = await cluster(await openStore(dir), { serviceCIDR: '10.200.0.0/28', nodePortRange: [30000, 30015] });
  const held = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const s = await first.registry.create(R.services, svc(`s${i}`, { type: 'NodePort' }));
    held.add(s.spec.clusterIP!);
    held.add(String(s.spec.ports![0].nodePort));
  }
  await first.store.close();

  const second = await cluster(await openStore(dir), { serviceCIDR: '10.200.0.0/28', nodePortRange: [30000, 30015] });
  t.is(second.alloc.ips.used, 6);
  t.is(second.alloc.ports.used, 6);
  // Fill what is left: every new value must differ from what the first run handed out.
  for (let i = 0; i < 7; i++) {
    const s = await second.registry.create(R.services, svc(`n${i}`, { type: 'NodePort' }));
    t.false(held.has(s.spec.clusterIP!), `cluster IP ${s.spec.clusterIP} handed out twice`);
    t.false(held.has(String(s.spec.ports![0].nodePort)), `node port ${s.spec.ports![0].nodePort} handed out twice`);
    held.add(s.spec.clusterIP!);
    held.add(String(s.spec.ports![0].nodePort));
  }
  // /28: 14 usable, one reserved for kubernetes -> 13 in all, now full.
  t.regex(await rejection(second.registry.create(R.services, svc('last'))), /range is full/);
  const old = (await second.registry.list<Service>(R.services)).items.find((s) => s.metadata.name === 's0')!;
  t.regex(await rejection(second.registry.create(R.services, svc('x', { clusterIP: old.spec.clusterIP }))), /already allocated/);
  await second.store.close();
});

test('rebuild reports two stored Services claiming one address', (t) => {
  const alloc = new ServiceAllocators({ serviceCIDR: '10.96.0.0/24', nodePortRange: RANGE });
  const mk = (name: string, ts: string): Service => ({ ...svc(name, { clusterIP: '10.96.0.50' }), metadata: { name, namespace: 'default', uid: name, creationTimestamp: ts } });
  const problems = alloc.rebuild([mk('young', '2024-02-01T00:00:00Z'), mk('old', '2024-01-01T00:00:00Z')]);
  t.deepEqual(problems, ['service default/young: clusterIP 10.96.0.50 is also held by old']);
  t.is(alloc.ips.ownerOf('10.96.0.50'), 'old');
});

// ---------------------------------------------------------------- externalIPs (CVE-2020-8554)

test('externalIPs are refused by default (DenyServiceExternalIPs): 403 naming the field, nothing stored', async (t) => {
  const { registry, alloc } = await cluster();
  const usedBefore = alloc.ips.used;
  const err = await t.throwsAsync(registry.create(R.services, svc('capture', { externalIPs: ['198.51.100.8'] })));
  t.true(isStatusError(err, 'Forbidden'), String(err));
  t.is((err as import('../../../src/api/errors.js').StatusError).status.code, 403);
  t.regex(err!.message, /Use of external IPs is denied by admission control: spec\.externalIPs\[0\]: "198\.51\.100\.8"/);
  t.regex(err!.message, /--allowed-external-ips/);
  t.is((await registry.list(R.services, { namespace: 'default' })).items.filter((s) => s.metadata.name === 'capture').length, 0);
  // The write was refused before allocation: no cluster IP leaked.
  t.is(alloc.ips.used, usedBefore);
});

test('externalIPs inside --allowed-external-ips are accepted; one outside is refused on create and update', async (t) => {
  const { registry } = await cluster(undefined, { allowedExternalIPs: ['192.0.2.0/28'] });
  const ok = await registry.create(R.services, svc('ok', { externalIPs: ['192.0.2.5'] }));
  t.deepEqual(ok.spec.externalIPs, ['192.0.2.5']);
  t.regex(await rejection(registry.create(R.services, svc('out', { externalIPs: ['192.0.2.5', '192.0.2.16'] }))), /spec\.externalIPs\[1\]: "192\.0\.2\.16" is outside the allowed ranges 192\.0\.2\.0\/28/);
  const next = { ...ok, spec: { ...ok.spec, externalIPs: ['192.0.2.5', '203.0.113.1'] } };
  t.regex(await rejection(registry.update(R.services, next)), /Use of external IPs is denied/);
});

test('externalIPsRefusal: an update may keep the external IPs it had (upstream keeps existing Services working)', (t) => {
  const old = svc('a', { externalIPs: ['198.51.100.8'] });
  t.is(externalIPsRefusal(svc('a', { externalIPs: ['198.51.100.8'] }), old, []), undefined);
  t.truthy(externalIPsRefusal(svc('a', { externalIPs: ['198.51.100.8', '198.51.100.9'] }), old, []));
  t.is(externalIPsRefusal(svc('a', {}), undefined, []), undefined);
  t.truthy(externalIPsRefusal(svc('a', { externalIPs: ['not-an-ip'] }), undefined, ['0.0.0.0/0']));
  t.is(externalIPsRefusal(svc('a', { externalIPs: ['10.1.2.3'] }), undefined, ['0.0.0.0/0']), undefined);
});
