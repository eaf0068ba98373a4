// The incremental model (ModelCache) must always equal the pure buildProxyModel of the same inputs,
// and keep the objects of Services that did not change (the renderer's memo relies on it).

import test from 'ava';
import type { Endpoints, EndpointSlice, Service } from '../../../src/api/types.js';
import { buildProxyModel } from '../../../src/netfilter/model.js';
import { ModelCache } from '../../../src/netfilter/model-cache.js';

const opts = { serviceCIDR: '10.96.0.0/12', nodeName: 'node-a' };

function svc(name: string, ip: string, ports = [{ name: 'http', port: 80 }]): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'm', name }, spec: { clusterIP: ip, ports } };
}
function eps(name: string, ips: string[]): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'm', name }, subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080 }] }] };
}
function slice(name: string, service: string, ips: string[], ready = true): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'm', name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready }, nodeName: 'node-a' })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

test('ModelCache equals buildProxyModel through a sequence of changes', (t) => {
  const cache = new ModelCache(opts);
  const services = new Map<string, Service>();
  const sources = new Map<string, Endpoints | EndpointSlice>();
  const check = (what: string) => {
    const want = buildProxyModel([...services.values()], [...sources.values()], opts);
    t.deepEqual(cache.current().model, want, what);
  };
  const putSvc = (s: Service) => {
    services.set(s.metadata.name!, s);
    cache.upsertService(s);
  };
  const putEp = (e: Endpoints | EndpointSlice) => {
    sources.set(`${e.kind}/${e.metadata.name}`, e);
    cache.upsertEndpoints(e);
  };

  cache.setServices([]);
  check('empty');
  putSvc(svc('a', '10.96.0.1'));
  putSvc(svc('b', '10.96.0.2'));
  check('services without endpoints');
  putEp(eps('a', ['10.244.0.1']));
  putEp(eps('b', ['10.244.0.2', '10.244.0.3']));
  check('endpoints');
  putEp(slice('b-x1', 'b', ['10.244.0.9']));
  check('a slice takes over from the Endpoints');
  putEp(slice('b-x2', 'b', ['10.244.0.8'], false));
  check('a second slice');
  // The slice moves to another Service: both must be rebuilt.
  putEp(slice('b-x1', 'a', ['10.244.0.7']));
  check('slice relabelled');
  sources.delete('EndpointSlice/b-x2');
  cache.deleteEndpoints('m/b-x2', 'EndpointSlice');
  check('last slice of b deleted: back to its Endpoints');
  services.delete('a');
  cache.deleteService('m/a');
  check('service deleted');
  sources.delete('Endpoints/b');
  cache.deleteEndpoints('m/b');
  check('endpoints deleted');
  cache.setServices([svc('c', '10.96.0.3')]);
  services.clear();
  services.set('c', svc('c', '10.96.0.3'));
  cache.setEndpoints([eps('c', ['10.244.0.4'])]);
  sources.clear();
  sources.set('Endpoints/c', eps('c', ['10.244.0.4']));
  check('replaced wholesale');
});

test('ModelCache keeps the objects of unchanged Services and reports problems per Service', (t) => {
  const cache = new ModelCache(opts);
  cache.setServices([svc('a', '10.96.0.1'), svc('b', '10.96.0.2'), svc('bad', '10.96.0.999')]);
  cache.setEndpoints([eps('a', ['10.244.0.1']), eps('b', ['10.244.0.2'])]);
  const first = cache.current();
  t.is(first.problems.length, 1);
  t.is(cache.current().model, first.model, 'no change: the same array');
  cache.upsertEndpoints(eps('b', ['10.244.0.3']));
  const second = cache.current();
  const a1 = first.model.find((s) => s.key === 'm/a:http');
  const a2 = second.model.find((s) => s.key === 'm/a:http');
  t.is(a1, a2, 'unchanged Service keeps its object');
  t.not(first.model.find((s) => s.key === 'm/b:http'), second.model.find((s) => s.key === 'm/b:http'));
  t.is(second.problems.length, 1);
});
