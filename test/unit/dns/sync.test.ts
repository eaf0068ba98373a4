import test from 'ava';
import type { Endpoints, Pod, Service } from '../../../src/api/types.js';
import { ClusterDNSIndex } from '../../../src/dns/records.js';
import { attachIndex, type InformerLike } from '../../../src/dns/sync.js';
import { kubeDnsEndpoints, kubeDnsService } from '../../../src/dns/publish.js';

type H<T> = Parameters<InformerLike<T>['on']>[0];
class FakeInformer<T> implements InformerLike<T> {
  handlers: H<T>[] = [];
  on(h: H<T>): this {
    this.handlers.push(h);
    return this;
  }
  add(o: T) {
    for (const h of this.handlers) h.add?.(o);
  }
  update(a: T, b: T) {
    for (const h of this.handlers) h.update?.(a, b);
  }
  delete(o: T) {
    for (const h of this.handlers) h.delete?.(o);
  }
}

const cfg = { domain: 'cluster.local', ttl: 5 };

test('attachIndex keeps the index in step with informer events', (t) => {
  const index = new ClusterDNSIndex();
  const services = new FakeInformer<Service>();
  const endpoints = new FakeInformer<Endpoints>();
  const pods = new FakeInformer<Pod>();
  attachIndex(index, { services, endpoints, pods });
  const svc = kubeDnsService('10.96.0.10');
  services.add(svc);
  const a = () => index.answer({ name: 'kube-dns.kube-system.svc.cluster.local', type: 'A' }, cfg);
  t.is(a().answers[0]?.data, '10.96.0.10');
  services.update(svc, { ...svc, spec: { ...svc.spec, clusterIP: '10.96.0.11' } });
  t.is(a().answers[0]?.data, '10.96.0.11');
  services.delete(svc);
  t.is(a().rcode, 'NXDOMAIN');

  const headless: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'default' }, spec: { clusterIP: 'None' } };
  services.add(headless);
  const ep: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'db', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.244.0.5' }] }] };
  endpoints.add(ep);
  t.is(index.answer({ name: 'db.default.svc.cluster.local', type: 'A' }, cfg).answers[0]?.data, '10.244.0.5');
  endpoints.delete(ep);
  t.deepEqual(index.answer({ name: 'db.default.svc.cluster.local', type: 'A' }, cfg).answers, []);

  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [] }, status: { podIP: '10.244.0.9' } };
  pods.add(pod);
  t.is(index.answer({ name: '10-244-0-9.default.pod.cluster.local', type: 'A' }, cfg).answers[0]?.data, '10.244.0.9');
  pods.delete(pod);
  t.is(index.answer({ name: '10-244-0-9.default.pod.cluster.local', type: 'A' }, cfg).rcode, 'NXDOMAIN');
});

test('kube-dns objects: a selector-less ClusterIP Service on --cluster-dns and Endpoints at the listener', (t) => {
  const svc = kubeDnsService('10.96.0.10', 5353);
  t.is(svc.metadata.namespace, 'kube-system');
  t.is(svc.metadata.name, 'kube-dns');
  t.is(svc.spec.clusterIP, '10.96.0.10');
  t.is(svc.spec.selector, undefined);
  t.deepEqual(svc.spec.ports?.map((p) => `${p.name}/${p.protocol}/${p.port}->${p.targetPort}`), ['dns/UDP/53->5353', 'dns-tcp/TCP/53->5353']);
  const ep = kubeDnsEndpoints('10.244.0.1', 5353, 'node1');
  t.deepEqual(ep.subsets?.[0].addresses, [{ ip: '10.244.0.1', nodeName: 'node1' }]);
  t.deepEqual(ep.subsets?.[0].ports?.map((p) => p.name), ['dns', 'dns-tcp']);
});
