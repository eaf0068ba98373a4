// The pure decisions of the DNS wiring: where to listen, whom to forward to, how kube-dns is brought
// to what we need, and the `kubelite dns lookup` resolver logic and printing.

import test from 'ava';
import type { Answer } from 'dns-packet';
import type { Endpoints, Service } from '../../../src/api/types.js';
import { chooseListenAddress, isLocalAddress, isLoopback, upstreamsFor } from '../../../src/dns/listen.js';
import { planEndpoints, planService } from '../../../src/dns/publish-plan.js';
import { CLUSTER_DOMAIN_ANNOTATION, DNS_LISTEN_ANNOTATION, kubeDnsEndpoints, kubeDnsService } from '../../../src/dns/publish.js';
import {
  chooseLookupServer,
  formatRecord,
  isFinal,
  lookupCandidates,
  lookupOutcome,
  parseIpRouteJson,
  parseServer,
  podSearchList,
  reverseName,
  routeStaysLocal,
} from '../../../src/dns/lookup.js';

// ---------- listen address and upstreams ----------

test('listen on the pod gateway once it is local; loopback without an agent; otherwise wait', (t) => {
  t.deepEqual(chooseListenAddress({ gateway: '10.244.0.1', gatewayIsLocal: true, agentEnabled: true }), { address: '10.244.0.1', reason: 'gateway' });
  t.deepEqual(chooseListenAddress({ gateway: '10.244.0.1', gatewayIsLocal: false, agentEnabled: true }), { wait: true });
  t.deepEqual(chooseListenAddress({ gateway: '10.244.0.1', gatewayIsLocal: true, agentEnabled: false }), { address: '127.0.0.1', reason: 'agent-disabled' });
  t.true(isLoopback('127.0.0.1'));
  t.true(isLoopback('::1'));
  t.false(isLoopback('10.244.0.1'));
});

test('isLocalAddress: a bind test, true for loopback, false for an address the host does not have', async (t) => {
  t.true(await isLocalAddress('127.0.0.1'));
  // TEST-NET-1 (RFC 5737): never configured on a host; the bind fails, nothing is sent.
  t.false(await isLocalAddress('192.0.2.254'));
});

test('upstreams: the flag wins over resolv.conf; the cluster DNS itself is dropped as a loop', (t) => {
  const resolv = () => ['10.255.255.53', '10.96.0.10', '127.0.0.53'];
  const fromFile = upstreamsFor(undefined, resolv, '10.96.0.10');
  t.deepEqual(fromFile.upstreams, ['10.255.255.53', '127.0.0.53']);
  t.is(fromFile.source, 'resolv.conf');
  t.is(fromFile.dropped.length, 1);
  t.regex(fromFile.dropped[0].why, /loop/);

  const fromFlag = upstreamsFor(['127.0.0.1:5353', '10.96.0.10:53', '127.0.0.1:5353'], resolv, '10.96.0.10');
  t.deepEqual(fromFlag.upstreams, ['127.0.0.1:5353']);
  t.is(fromFlag.source, 'flag');

  // An empty flag list means "not given".
  t.is(upstreamsFor([], resolv, '10.96.0.10').source, 'resolv.conf');
  // A bad flag value is kept for DNSServer to reject loudly; a bad resolv.conf line is dropped quietly.
  t.deepEqual(upstreamsFor(['not-an-ip'], resolv, '10.96.0.10').upstreams, ['not-an-ip']);
  const bad = upstreamsFor(undefined, () => ['resolver.example', '10.0.0.2'], '10.96.0.10');
  t.deepEqual(bad.upstreams, ['10.0.0.2']);
});

// ---------- publishing kube-dns ----------

function stored<T extends Service | Endpoints>(o: T, extra: Partial<T['metadata']> = {}): T {
  const c = structuredClone(o);
  c.metadata = { ...c.metadata, uid: 'u1', resourceVersion: '42', ...extra };
  return c;
}

const desiredSvc = () => kubeDnsService('10.96.0.10', 53, { domain: 'cluster.local', listen: '10.244.0.1:53' });

test('kube-dns Service: created when missing, untouched when equal (defaults and extra labels tolerated)', (t) => {
  t.is(planService(undefined, desiredSvc()).op, 'create');
  const s = stored(desiredSvc(), { labels: { ...desiredSvc().metadata.labels, extra: 'yes' } });
  s.spec.sessionAffinity = 'None';
  s.spec.ipFamilies = ['IPv4'];
  t.deepEqual(planService(s, desiredSvc()), { op: 'none' });
  t.is(desiredSvc().metadata.annotations?.[CLUSTER_DOMAIN_ANNOTATION], 'cluster.local');
  t.is(desiredSvc().metadata.annotations?.[DNS_LISTEN_ANNOTATION], '10.244.0.1:53');
});

test('kube-dns Service: a changed port, a selector or a lost annotation is updated in place', (t) => {
  const s = stored(desiredSvc());
  s.spec.ports![0].targetPort = 5353;
  s.spec.selector = { app: 'coredns' };
  delete s.metadata.annotations![DNS_LISTEN_ANNOTATION];
  const step = planService(s, desiredSvc());
  if (step.op !== 'update') return t.fail(step.op);
  t.regex(step.why, /ports/);
  t.regex(step.why, /selector/);
  t.regex(step.why, /annotations/);
  t.is(step.obj.metadata.resourceVersion, '42', 'the update is conditional on what was read');
  t.is(step.obj.spec.selector, undefined);
  t.is(step.obj.spec.ports![0].targetPort, 53);
  t.is(step.obj.metadata.annotations?.[DNS_LISTEN_ANNOTATION], '10.244.0.1:53');
  t.deepEqual(s.spec.selector, { app: 'coredns' }, 'the stored (shared) object is not changed');
});

test('kube-dns Service: another clusterIP or type needs a delete and create', (t) => {
  const other = stored(kubeDnsService('10.96.0.20', 53));
  const step = planService(other, desiredSvc());
  t.is(step.op, 'recreate');
  if (step.op === 'recreate') t.regex(step.why, /10\.96\.0\.20/);
  const ext = stored(desiredSvc());
  ext.spec.type = 'ExternalName';
  t.is(planService(ext, desiredSvc()).op, 'recreate');
});

test('kube-dns Endpoints: created, left alone, or updated to the new listen address', (t) => {
  const want = kubeDnsEndpoints('10.244.0.1', 53, 'node1');
  t.is(planEndpoints(undefined, want).op, 'create');
  t.deepEqual(planEndpoints(stored(want), want), { op: 'none' });
  const moved = planEndpoints(stored(kubeDnsEndpoints('127.0.0.1', 40000, 'node1')), want);
  if (moved.op !== 'update') return t.fail(moved.op);
  t.deepEqual(moved.obj.subsets, want.subsets);
  t.is(moved.obj.metadata.resourceVersion, '42');
  const none: Endpoints = { ...want, subsets: [] };
  t.is(planEndpoints(stored(want), none).op, 'update');
  t.deepEqual(planEndpoints(stored(none), none), { op: 'none' });
});

// ---------- kubelite dns lookup ----------

test('lookup candidates follow a glibc resolver with ndots:5 and the Pod search list', (t) => {
  const search = podSearchList('shop', 'cluster.local.');
  t.deepEqual(search, ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
  t.deepEqual(lookupCandidates('web', 'A', search), ['web.shop.svc.cluster.local.', 'web.svc.cluster.local.', 'web.cluster.local.', 'web.']);
  t.deepEqual(lookupCandidates('Web.Other', 'A', search)[0], 'web.other.shop.svc.cluster.local.');
  t.deepEqual(lookupCandidates('web.shop.svc.cluster.local.', 'A', search), ['web.shop.svc.cluster.local.']);
  // five dots: tried as it is first
  t.deepEqual(lookupCandidates('a.b.c.d.e.f', 'A', search)[0], 'a.b.c.d.e.f.');
  t.deepEqual(lookupCandidates('_http._tcp.web', 'SRV', search)[0], '_http._tcp.web.shop.svc.cluster.local.');
  t.deepEqual(lookupCandidates('10.96.0.10', 'PTR', search), ['10.0.96.10.in-addr.arpa.']);
  t.is(reverseName('10.244.1.7'), '7.1.244.10.in-addr.arpa.');
  for (const bad of ['bad..name', 'has space', 'new\nline', 'x'.repeat(64), '']) t.throws(() => lookupCandidates(bad, 'A', search), undefined, bad);
});

test('lookup outcome: records win, then NODATA, then a failure, then NXDOMAIN', (t) => {
  t.deepEqual(lookupOutcome([{ name: 'a.', rcode: 'NXDOMAIN', answers: 0 }, { name: 'b.', rcode: 'NOERROR', answers: 1 }]), { kind: 'answer', name: 'b.' });
  t.deepEqual(lookupOutcome([{ name: 'a.', rcode: 'NXDOMAIN', answers: 0 }, { name: 'b.', rcode: 'NOERROR', answers: 0 }, { name: 'c.', rcode: 'SERVFAIL', answers: 0 }]), { kind: 'nodata', name: 'b.' });
  t.deepEqual(lookupOutcome([{ name: 'a.', rcode: 'NXDOMAIN', answers: 0 }, { name: 'c.', rcode: 'SERVFAIL', answers: 0 }]), { kind: 'error', name: 'c.', rcode: 'SERVFAIL' });
  t.deepEqual(lookupOutcome([{ name: 'a.', rcode: 'NXDOMAIN', answers: 0 }]), { kind: 'nxdomain' });
  t.true(isFinal({ name: 'a.', rcode: 'NOERROR', answers: 2 }));
  t.false(isFinal({ name: 'a.', rcode: 'NOERROR', answers: 0 }));
  t.false(isFinal({ name: 'a.', rcode: 'NXDOMAIN', answers: 0 }));
});

test('records print like dig, one line each, nothing able to break a line', (t) => {
  const rr = (r: Record<string, unknown>) => ({ class: 'IN', ttl: 5, ...r }) as unknown as Answer;
  t.is(formatRecord(rr({ name: 'web.default.svc.cluster.local', type: 'A', data: '10.96.12.34' })), 'web.default.svc.cluster.local. 5 IN A 10.96.12.34');
  t.is(formatRecord(rr({ name: 'ext.default.svc.cluster.local', type: 'CNAME', data: 'api.example.com' })), 'ext.default.svc.cluster.local. 5 IN CNAME api.example.com.');
  t.is(formatRecord(rr({ name: '_http._tcp.web.default.svc.cluster.local', type: 'SRV', data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } })), '_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local.');
  t.is(formatRecord(rr({ name: '34.12.96.10.in-addr.arpa', type: 'PTR', data: 'web.default.svc.cluster.local' })), '34.12.96.10.in-addr.arpa. 5 IN PTR web.default.svc.cluster.local.');
  t.is(formatRecord(rr({ name: 'dns-version.cluster.local', type: 'TXT', data: [Buffer.from('1.1.0'), Buffer.from('a"b\nc')] })), 'dns-version.cluster.local. 5 IN TXT "1.1.0" "a\\"b\\010c"');
  t.is(formatRecord(rr({ name: 'cluster.local', type: 'SOA', data: { mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 7, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 } })), 'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 86400 5');
});

test('the lookup server: --server as given; the ClusterIP only when routed locally; else the local listen address; never the uplink', (t) => {
  t.deepEqual(chooseLookupServer({ explicit: '10.244.0.1:5353', clusterIPLocal: false, listenLocal: false, hasEndpoints: false }), { address: '10.244.0.1', port: 5353, via: '--server' });
  const base = { clusterIP: '10.96.0.10', listen: '10.244.0.1:53', hasEndpoints: true };
  t.deepEqual(chooseLookupServer({ ...base, clusterIPLocal: true, listenLocal: true }), { address: '10.96.0.10', port: 53, via: 'the kube-dns ClusterIP' });
  t.deepEqual(chooseLookupServer({ ...base, clusterIPLocal: false, listenLocal: true }), { address: '10.244.0.1', port: 53, via: "the DNS server's listen address" });
  // no agent: the VIP has no backend, the loopback listener is used
  t.deepEqual(chooseLookupServer({ ...base, listen: '127.0.0.1:41000', hasEndpoints: false, clusterIPLocal: true, listenLocal: true }), { address: '127.0.0.1', port: 41000, via: "the DNS server's listen address" });
  const remote = chooseLookupServer({ ...base, clusterIPLocal: false, listenLocal: false });
  t.true('error' in remote && /not reachable from this host/.test(remote.error));
  t.true('error' in chooseLookupServer({ clusterIPLocal: false, listenLocal: false, hasEndpoints: false }));
  t.deepEqual(parseServer('10.0.0.1'), { address: '10.0.0.1', port: 53 });
  for (const bad of ['10.0.0.256', 'host.example', '10.0.0.1:0', '10.0.0.1:70000', '10.0.0.1; rm -rf /']) t.throws(() => parseServer(bad), undefined, bad);
});

test('a route stays local only when it is local or goes, without a gateway, to a kubelite device', (t) => {
  const viaUplink = parseIpRouteJson('[{"dst":"203.0.113.8","gateway":"192.0.2.1","dev":"eth0","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]');
  const onLink = parseIpRouteJson('[{"dst":"192.0.2.9","dev":"eth0","prefsrc":"192.0.2.2"}]');
  const service = parseIpRouteJson('[{"dst":"10.201.5.10","dev":"klsvc-t5","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]');
  const local = parseIpRouteJson('[{"type":"local","dst":"10.200.5.1","dev":"lo","prefsrc":"10.200.5.1"}]');
  t.false(routeStaysLocal(viaUplink));
  t.false(routeStaysLocal(onLink));
  t.true(routeStaysLocal(service));
  t.true(routeStaysLocal(parseIpRouteJson('[{"dst":"10.96.0.10","dev":"klsvc"}]')));
  t.true(routeStaysLocal(local));
  t.false(routeStaysLocal(parseIpRouteJson('[{"dst":"10.96.0.10","dev":"klsvcX"}]')));
  t.false(routeStaysLocal(parseIpRouteJson('not json')));
  t.false(routeStaysLocal(undefined));
});
