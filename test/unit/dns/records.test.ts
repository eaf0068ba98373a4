import test from 'ava';
import type { Endpoints, Pod, Service, ServiceSpec, EndpointSubset } from '../../../src/api/types.js';
import { ClusterDNSIndex, type AnswerConfig, type DNSAnswer } from '../../../src/dns/records.js';

const cfg: AnswerConfig = { domain: 'cluster.local', ttl: 5 };

function svc(ns: string, name: string, spec: ServiceSpec): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec };
}
function eps(ns: string, name: string, subsets: EndpointSubset[]): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: ns, name }, subsets };
}
function pod(ns: string, name: string, ip: string | undefined, extra: { hostname?: string; subdomain?: string; ready?: boolean; hostNetwork?: boolean; phase?: 'Running' | 'Succeeded' } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name },
    spec: { containers: [{ name: 'c', image: 'i' }], hostname: extra.hostname, subdomain: extra.subdomain, hostNetwork: extra.hostNetwork },
    status: { phase: extra.phase ?? 'Running', podIP: ip, conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
  };
}

function fixture(): ClusterDNSIndex {
  const ix = new ClusterDNSIndex();
  ix.upsertService(svc('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9000 }] }));
  ix.upsertService(svc('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
  ix.upsertEndpoints(
    eps('default', 'db', [
      {
        addresses: [
          { ip: '10.244.0.5', hostname: 'db-0' },
          { ip: '10.244.0.6' },
        ],
        notReadyAddresses: [{ ip: '10.244.0.7', hostname: 'db-2' }],
        ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      },
    ]),
  );
  ix.upsertService(svc('default', 'stripe', { type: 'ExternalName', externalName: 'api.stripe.com' }));
  ix.upsertService(svc('kube-system', 'kube-dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  ix.upsertPod(pod('default', 'db-0', '10.244.0.5'));
  ix.upsertPod(pod('default', 'loose', '10.244.0.9'));
  return ix;
}

const A = (ans: DNSAnswer) => ans.answers.filter((r) => r.type === 'A').map((r) => r.data as string).sort();

function assertNegative(t: import('ava').ExecutionContext, ans: DNSAnswer, rcode: 'NXDOMAIN' | 'NOERROR', zone = 'cluster.local') {
  t.is(ans.rcode, rcode);
  t.deepEqual(ans.answers, []);
  t.is(ans.authority.length, 1);
  const soa = ans.authority[0];
  t.is(soa.type, 'SOA');
  t.is(soa.name, zone);
  if (soa.type === 'SOA') {
    t.is(soa.data.mname, 'ns.dns.cluster.local');
    t.is(soa.data.rname, 'hostmaster.cluster.local');
    t.is(soa.data.minimum, 5);
  }
  t.is(soa.ttl, 5);
  t.falsy(ans.forward);
}

test('ClusterIP Service: A record with the ClusterIP, authoritative, configured TTL', (t) => {
  const ans = fixture().answer({ name: 'web.default.svc.cluster.local', type: 'A' }, cfg);
  t.is(ans.rcode, 'NOERROR');
  t.deepEqual(ans.answers, [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN', ttl: 5, data: '10.96.0.20' }]);
  t.true(ans.authoritative);
  t.falsy(ans.forward);
});

test('names are case-insensitive and the trailing dot is optional', (t) => {
  const ix = fixture();
  t.deepEqual(A(ix.answer({ name: 'WEB.Default.SVC.Cluster.Local.', type: 'A' }, cfg)), ['10.96.0.20']);
  t.deepEqual(A(ix.answer({ name: 'web.default.svc.cluster.local', type: 'a' }, { ...cfg, domain: 'Cluster.Local.' })), ['10.96.0.20']);
});

test('TTL follows the configuration', (t) => {
  const ans = fixture().answer({ name: 'web.default.svc.cluster.local', type: 'A' }, { ...cfg, ttl: 30 });
  t.is(ans.answers[0].ttl, 30);
});

test('AAAA, TXT, MX and unknown types of an existing Service: NODATA with SOA, never an error', (t) => {
  const ix = fixture();
  for (const type of ['AAAA', 'TXT', 'MX', 'TYPE65', 'UNKNOWN_99', 'CNAME', 'PTR']) {
    assertNegative(t, ix.answer({ name: 'web.default.svc.cluster.local', type }, cfg), 'NOERROR');
  }
});

test('NXDOMAIN for a Service that does not exist, with SOA', (t) => {
  const ix = fixture();
  assertNegative(t, ix.answer({ name: 'nope.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'nope.default.svc.cluster.local', type: 'AAAA' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'web.other.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'a.b.c.d.e.f.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'web.default.foo.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'random.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
});

test('intermediate names exist (NODATA) only while something lives under them', (t) => {
  const ix = fixture();
  assertNegative(t, ix.answer({ name: 'svc.cluster.local', type: 'A' }, cfg), 'NOERROR');
  assertNegative(t, ix.answer({ name: 'default.svc.cluster.local', type: 'A' }, cfg), 'NOERROR');
  assertNegative(t, ix.answer({ name: 'empty.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  const empty = new ClusterDNSIndex();
  assertNegative(t, empty.answer({ name: 'svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, empty.answer({ name: 'pod.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  ix.deleteService('kube-system', 'kube-dns');
  assertNegative(t, ix.answer({ name: 'kube-system.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
});

test('headless Service: one A per Ready endpoint; not-ready ones only with publishNotReadyAddresses', (t) => {
  const ix = fixture();
  t.deepEqual(A(ix.answer({ name: 'db.default.svc.cluster.local', type: 'A' }, cfg)), ['10.244.0.5', '10.244.0.6']);
  ix.upsertService(svc('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }], publishNotReadyAddresses: true }));
  t.deepEqual(A(ix.answer({ name: 'db.default.svc.cluster.local', type: 'A' }, cfg)), ['10.244.0.5', '10.244.0.6', '10.244.0.7']);
});

test('headless Service without endpoints: NODATA, and NXDOMAIN after it is deleted', (t) => {
  const ix = fixture();
  ix.deleteEndpoints('default', 'db');
  assertNegative(t, ix.answer({ name: 'db.default.svc.cluster.local', type: 'A' }, cfg), 'NOERROR');
  ix.deleteService('default', 'db');
  assertNegative(t, ix.answer({ name: 'db.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
});

test('headless endpoints get names: their hostname, else their dashed IP', (t) => {
  const ix = fixture();
  t.deepEqual(A(ix.answer({ name: 'db-0.db.default.svc.cluster.local', type: 'A' }, cfg)), ['10.244.0.5']);
  t.deepEqual(A(ix.answer({ name: '10-244-0-6.db.default.svc.cluster.local', type: 'A' }, cfg)), ['10.244.0.6']);
  // not ready: no name
  assertNegative(t, ix.answer({ name: 'db-2.db.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'db-9.db.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'db-0.db.default.svc.cluster.local', type: 'AAAA' }, cfg), 'NOERROR');
  // ClusterIP Services have no per-endpoint names
  assertNegative(t, ix.answer({ name: 'db-0.web.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
});

test('Pods with hostname + subdomain under a headless Service get their own A record', (t) => {
  const ix = fixture();
  ix.upsertService(svc('default', 'grid', { clusterIP: 'None' }));
  ix.upsertPod(pod('default', 'node-a', '10.244.1.1', { hostname: 'node-a', subdomain: 'grid' }));
  ix.upsertPod(pod('default', 'node-b', '10.244.1.2', { hostname: 'node-b', subdomain: 'grid', ready: false }));
  ix.upsertPod(pod('default', 'orphan', '10.244.1.3', { hostname: 'orphan', subdomain: 'nosvc' }));
  t.deepEqual(A(ix.answer({ name: 'node-a.grid.default.svc.cluster.local', type: 'A' }, cfg)), ['10.244.1.1']);
  assertNegative(t, ix.answer({ name: 'node-b.grid.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'orphan.nosvc.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  // the record follows the Pod
  ix.deletePod('default', 'node-a');
  assertNegative(t, ix.answer({ name: 'node-a.grid.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  // and needs the Service to be headless
  ix.upsertPod(pod('default', 'node-a', '10.244.1.1', { hostname: 'node-a', subdomain: 'grid' }));
  ix.upsertService(svc('default', 'grid', { clusterIP: '10.96.0.99' }));
  assertNegative(t, ix.answer({ name: 'node-a.grid.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
});

test('SRV for a named port of a ClusterIP Service targets the Service name, with glue', (t) => {
  const ans = fixture().answer({ name: '_http._tcp.web.default.svc.cluster.local', type: 'SRV' }, cfg);
  t.is(ans.rcode, 'NOERROR');
  t.deepEqual(ans.answers, [
    { name: '_http._tcp.web.default.svc.cluster.local', type: 'SRV', class: 'IN', ttl: 5, data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } },
  ]);
  t.deepEqual(ans.additional, [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN', ttl: 5, data: '10.96.0.20' }]);
  const udp = fixture().answer({ name: '_dns._udp.web.default.svc.cluster.local', type: 'SRV' }, cfg);
  t.is(udp.answers.length, 1);
  t.is(udp.answers[0].type === 'SRV' && udp.answers[0].data.port, 53);
});

test('SRV negatives: wrong protocol or port is NXDOMAIN, other types NODATA, _proto is an empty non-terminal', (t) => {
  const ix = fixture();
  assertNegative(t, ix.answer({ name: '_http._udp.web.default.svc.cluster.local', type: 'SRV' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: '_nope._tcp.web.default.svc.cluster.local', type: 'SRV' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: '_http._tcp.web.default.svc.cluster.local', type: 'A' }, cfg), 'NOERROR');
  assertNegative(t, ix.answer({ name: '_tcp.web.default.svc.cluster.local', type: 'SRV' }, cfg), 'NOERROR');
  assertNegative(t, ix.answer({ name: '_sctp.web.default.svc.cluster.local', type: 'SRV' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: '_http._tcp.nope.default.svc.cluster.local', type: 'SRV' }, cfg), 'NXDOMAIN');
});

test('SRV for a headless Service: one per ready endpoint, targeting each endpoint name', (t) => {
  const ans = fixture().answer({ name: '_pg._tcp.db.default.svc.cluster.local', type: 'SRV' }, cfg);
  const targets = ans.answers.map((r) => (r.type === 'SRV' ? `${r.data.target}:${r.data.port}` : '')).sort();
  t.deepEqual(targets, ['10-244-0-6.db.default.svc.cluster.local:5432', 'db-0.db.default.svc.cluster.local:5432']);
  t.deepEqual(
    (ans.additional ?? []).map((r) => `${r.name}=${r.data as string}`).sort(),
    ['10-244-0-6.db.default.svc.cluster.local=10.244.0.6', 'db-0.db.default.svc.cluster.local=10.244.0.5'],
  );
});

test('SRV question on the Service name lists every port', (t) => {
  const ans = fixture().answer({ name: 'web.default.svc.cluster.local', type: 'SRV' }, cfg);
  t.deepEqual(ans.answers.map((r) => (r.type === 'SRV' ? r.data.port : 0)).sort((a, b) => a - b), [53, 80, 9000]);
});

test('ExternalName: CNAME, and the target is forwarded for A/AAAA', (t) => {
  const ix = fixture();
  for (const type of ['A', 'AAAA']) {
    const ans = ix.answer({ name: 'stripe.default.svc.cluster.local', type }, cfg);
    t.is(ans.rcode, 'NOERROR');
    t.deepEqual(ans.answers, [{ name: 'stripe.default.svc.cluster.local', type: 'CNAME', class: 'IN', ttl: 5, data: 'api.stripe.com' }]);
    t.true(ans.forward);
    t.is(ans.cnameTarget, 'api.stripe.com');
  }
  const cname = ix.answer({ name: 'stripe.default.svc.cluster.local', type: 'CNAME' }, cfg);
  t.is(cname.answers[0].type, 'CNAME');
  t.falsy(cname.forward);
  const txt = ix.answer({ name: 'stripe.default.svc.cluster.local', type: 'TXT' }, cfg);
  t.is(txt.answers[0].type, 'CNAME');
  t.falsy(txt.forward);
  // an invalid externalName publishes nothing
  ix.upsertService(svc('default', 'bad', { type: 'ExternalName', externalName: 'evil name\n.com' }));
  assertNegative(t, ix.answer({ name: 'bad.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
});

test('PTR for ClusterIPs, headless endpoints and Pods', (t) => {
  const ix = fixture();
  const ptr = (ip: string) => {
    const ans = ix.answer({ name: `${ip.split('.').reverse().join('.')}.in-addr.arpa`, type: 'PTR' }, cfg);
    return ans.answers.map((r) => r.data as string);
  };
  t.deepEqual(ptr('10.96.0.20'), ['web.default.svc.cluster.local']);
  t.deepEqual(ptr('10.244.0.5'), ['db-0.db.default.svc.cluster.local']);
  t.deepEqual(ptr('10.244.0.6'), ['10-244-0-6.db.default.svc.cluster.local']);
  t.deepEqual(ptr('10.244.0.9'), ['10-244-0-9.default.pod.cluster.local']);
  ix.upsertService(svc('default', 'grid', { clusterIP: 'None' }));
  ix.upsertPod(pod('default', 'node-a', '10.244.1.1', { hostname: 'node-a', subdomain: 'grid' }));
  t.deepEqual(ptr('10.244.1.1'), ['node-a.grid.default.svc.cluster.local']);
  const ans = ix.answer({ name: '20.0.96.10.in-addr.arpa', type: 'PTR' }, cfg);
  t.is(ans.answers[0].name, '20.0.96.10.in-addr.arpa');
  t.true(ans.authoritative);
});

test('PTR negatives: unknown address inside our CIDRs is NXDOMAIN, outside is forwarded', (t) => {
  const ix = fixture();
  const c = { ...cfg, reverseCIDRs: ['10.96.0.0/12', '10.244.0.0/16'] };
  assertNegative(t, ix.answer({ name: '99.0.96.10.in-addr.arpa', type: 'PTR' }, c), 'NXDOMAIN', 'in-addr.arpa');
  const out = ix.answer({ name: '8.113.0.203.in-addr.arpa', type: 'PTR' }, c);
  t.true(out.forward);
  t.is(out.rcode, 'NOERROR');
  // without configured CIDRs every unknown reverse name falls through
  t.true(ix.answer({ name: '99.0.96.10.in-addr.arpa', type: 'PTR' }, cfg).forward);
  // partial reverse names are forwarded too
  t.true(ix.answer({ name: '96.10.in-addr.arpa', type: 'PTR' }, c).forward);
  // a known reverse name asked for another type: NODATA
  assertNegative(t, ix.answer({ name: '20.0.96.10.in-addr.arpa', type: 'A' }, c), 'NOERROR', 'in-addr.arpa');
});

test('Pod A records: verified by default, insecure and disabled modes', (t) => {
  const ix = fixture();
  t.deepEqual(A(ix.answer({ name: '10-244-0-9.default.pod.cluster.local', type: 'A' }, cfg)), ['10.244.0.9']);
  assertNegative(t, ix.answer({ name: '10-244-0-9.other.pod.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: '10-244-0-77.default.pod.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'default.pod.cluster.local', type: 'A' }, cfg), 'NOERROR');
  assertNegative(t, ix.answer({ name: 'other.pod.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  const insecure = { ...cfg, pods: 'insecure' as const };
  t.deepEqual(A(ix.answer({ name: '1-2-3-4.anything.pod.cluster.local', type: 'A' }, insecure)), ['1.2.3.4']);
  assertNegative(t, ix.answer({ name: '1-2-3-999.anything.pod.cluster.local', type: 'A' }, insecure), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: 'not-an-ip.anything.pod.cluster.local', type: 'A' }, insecure), 'NXDOMAIN');
  assertNegative(t, ix.answer({ name: '10-244-0-9.default.pod.cluster.local', type: 'A' }, { ...cfg, pods: 'disabled' }), 'NXDOMAIN');
});

test('Pods that finished, run on the host network or have no IP publish nothing', (t) => {
  const ix = new ClusterDNSIndex();
  ix.upsertPod(pod('default', 'done', '10.244.0.2', { phase: 'Succeeded' }));
  ix.upsertPod(pod('default', 'host', '10.99.1.10', { hostNetwork: true }));
  ix.upsertPod(pod('default', 'pending', undefined));
  t.deepEqual(ix.size, { services: 0, endpoints: 0, pods: 0 });
  ix.upsertPod(pod('default', 'p', '10.244.0.3'));
  t.is(ix.size.pods, 1);
  ix.upsertPod(pod('default', 'p', '10.244.0.3', { phase: 'Succeeded' }));
  t.is(ix.size.pods, 0);
});

test('names outside the cluster domain are forwarded', (t) => {
  const ix = fixture();
  for (const name of ['api.stripe.com', 'cluster.local.evil.com', 'xcluster.local', 'local', '']) {
    const ans = ix.answer({ name, type: 'A' }, cfg);
    t.true(ans.forward, name);
    t.is(ans.rcode, 'NOERROR');
    t.deepEqual(ans.answers, []);
    t.falsy(ans.authoritative);
  }
});

test('classes: CH/HS/unknown REFUSED, ANY NOTIMP; zone transfers REFUSED', (t) => {
  const ix = fixture();
  t.is(ix.answer({ name: 'web.default.svc.cluster.local', type: 'A', class: 'CH' }, cfg).rcode, 'REFUSED');
  t.is(ix.answer({ name: 'web.default.svc.cluster.local', type: 'A', class: 'CLASS42' }, cfg).rcode, 'REFUSED');
  t.is(ix.answer({ name: 'api.stripe.com', type: 'A', class: 'HS' }, cfg).rcode, 'REFUSED');
  t.is(ix.answer({ name: 'web.default.svc.cluster.local', type: 'A', class: 'ANY' }, cfg).rcode, 'NOTIMP');
  t.is(ix.answer({ name: 'cluster.local', type: 'AXFR' }, cfg).rcode, 'REFUSED');
  t.is(ix.answer({ name: 'web.default.svc.cluster.local', type: 'A', class: 'in' }, cfg).rcode, 'NOERROR');
});

test('zone apex: SOA and NS; dns-version TXT; ns.dns A is the kube-dns ClusterIP', (t) => {
  const ix = fixture();
  const soa = ix.answer({ name: 'cluster.local', type: 'SOA' }, cfg);
  t.is(soa.answers.length, 1);
  t.is(soa.answers[0].type, 'SOA');
  const ns = ix.answer({ name: 'cluster.local', type: 'NS' }, cfg);
  t.deepEqual(ns.answers.map((r) => r.data), ['ns.dns.cluster.local']);
  assertNegative(t, ix.answer({ name: 'cluster.local', type: 'A' }, cfg), 'NOERROR');
  const v = ix.answer({ name: 'dns-version.cluster.local', type: 'TXT' }, cfg);
  t.deepEqual(v.answers.map((r) => r.data), [['1.1.0']]);
  t.deepEqual(A(ix.answer({ name: 'ns.dns.cluster.local', type: 'A' }, cfg)), ['10.96.0.10']);
});

test('ANY is answered with what the name has', (t) => {
  const ix = fixture();
  t.deepEqual(A(ix.answer({ name: 'web.default.svc.cluster.local', type: 'ANY' }, cfg)), ['10.96.0.20']);
});

test('generation bumps only when DNS-visible data changes', (t) => {
  const ix = new ClusterDNSIndex();
  const g0 = ix.generation;
  t.true(ix.upsertService(svc('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] })));
  const g1 = ix.generation;
  t.true(g1 > g0);
  // same content (labels, unrelated fields) again: no change
  const again = svc('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }], selector: { app: 'x' } });
  again.metadata.labels = { changed: 'yes' };
  t.false(ix.upsertService(again));
  t.is(ix.generation, g1);
  t.true(ix.upsertPod(pod('default', 'p', '10.244.0.3')));
  const g2 = ix.generation;
  const p = pod('default', 'p', '10.244.0.3');
  p.status!.startTime = 'now';
  t.false(ix.upsertPod(p));
  t.is(ix.generation, g2);
  t.false(ix.deleteService('default', 'nope'));
  t.true(ix.deleteService('default', 'web'));
  t.true(ix.generation > g2);
});

test('a Service gets its record when its ClusterIP is set, and PTR follows a changed IP', (t) => {
  const ix = new ClusterDNSIndex();
  t.false(ix.upsertService(svc('default', 'web', {})));
  assertNegative(t, ix.answer({ name: 'web.default.svc.cluster.local', type: 'A' }, cfg), 'NXDOMAIN');
  ix.upsertService(svc('default', 'web', { clusterIP: '10.96.0.20' }));
  t.deepEqual(A(ix.answer({ name: 'web.default.svc.cluster.local', type: 'A' }, cfg)), ['10.96.0.20']);
  ix.upsertService(svc('default', 'web', { clusterIP: '10.96.0.21' }));
  t.true(ix.answer({ name: '20.0.96.10.in-addr.arpa', type: 'PTR' }, cfg).forward);
  t.is(ix.answer({ name: '21.0.96.10.in-addr.arpa', type: 'PTR' }, cfg).answers[0].data, 'web.default.svc.cluster.local');
  // a Service type change to ExternalName turns the A into a CNAME
  ix.upsertService(svc('default', 'web', { type: 'ExternalName', externalName: 'example.org' }));
  t.is(ix.answer({ name: 'web.default.svc.cluster.local', type: 'A' }, cfg).answers[0].type, 'CNAME');
  t.true(ix.answer({ name: '21.0.96.10.in-addr.arpa', type: 'PTR' }, cfg).forward);
});

test('objects with names that are not DNS labels are ignored', (t) => {
  const ix = new ClusterDNSIndex();
  t.false(ix.upsertService(svc('default', 'Bad_Name', { clusterIP: '10.96.0.5' })));
  t.false(ix.upsertService(svc('bad ns', 'web', { clusterIP: '10.96.0.5' })));
  t.false(ix.upsertEndpoints(eps('default', 'x.y', [])));
  t.is(ix.size.services, 0);
});

test('10,000 Services index and answer quickly', (t) => {
  const ix = new ClusterDNSIndex();
  for (let i = 0; i < 10_000; i++) ix.upsertService(svc(`ns${i % 100}`, `svc${i}`, { clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80 }] }));
  t.is(ix.size.services, 10_000);
  const ans = ix.answer({ name: 'svc4321.ns21.svc.cluster.local', type: 'A' }, cfg);
  t.deepEqual(A(ans), [`10.96.${(4321 >> 8) & 255}.${4321 & 255}`]);
  const ptr = ix.answer({ name: `${4321 & 255}.${(4321 >> 8) & 255}.96.10.in-addr.arpa`, type: 'PTR' }, cfg);
  t.is(ptr.answers[0].data, 'svc4321.ns21.svc.cluster.local');
});
