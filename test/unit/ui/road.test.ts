// The road as a graph: the seed example, Pods leaving and coming, headless and ExternalName Services,
// an Ingress in front, grouping at scale, filters and search, the counter keys an edge sums.

import test from 'ava';
import { buildRoad, type Road } from '../../../src/ui/model/road.js';
import { counterKey } from '../../../src/ui/wire.js';
import { T0, deployment, ingress, pod, replicaSet, seed, service, slice, stateOf } from './fixtures.js';

const opts = { now: T0 + 60_000, clusterDomain: 'cluster.local' };
const node = (r: Road, id: string) => r.nodes.find((n) => n.id === id);
const edge = (r: Road, from: string, to: string) => r.edges.find((e) => e.from === from && e.to === to);

test('the seed: entry points -> ClusterIP my-backend -> 3 Ready Pods', (t) => {
  const { objects, pods } = seed();
  const r = buildRoad(stateOf(objects), opts);
  const entry = node(r, 'entry:default/my-backend')!;
  t.deepEqual(
    entry.lines.map((l) => l.text),
    ['ClusterIP 10.96.0.20:80/TCP', 'DNS my-backend.default.svc.cluster.local'],
  );
  const svc = node(r, 'svc:default/my-backend')!;
  t.is(svc.subtitle, 'Service · ClusterIP');
  t.true(svc.lines.some((l) => l.text === 'selector app=my-backend'));
  t.true(svc.lines.some((l) => l.text === '3/3 endpoints ready'));
  t.truthy(edge(r, entry.id, svc.id));
  for (const p of pods) {
    const id = `pod:default/${p.metadata.name}`;
    t.is(node(r, id)?.state, 'ready');
    const e = edge(r, svc.id, id)!;
    t.is(e.state, 'ready');
    t.deepEqual(e.counterKeys, [counterKey('default', 'my-backend', 'http', 'TCP', `${p.status!.podIP}:8080`)]);
  }
  // The entry edge sums every endpoint: what enters the Service.
  t.is(edge(r, entry.id, svc.id)!.counterKeys.length, 3);
  t.deepEqual(r.stats, { pods: 3, services: 1, shownPods: 3, shownServices: 1 });
});

test('a deleted Pod turns red and its endpoint is terminating; its replacement appears as a candidate, then not Ready', (t) => {
  const { objects, pods } = seed();
  const [a, b, c] = pods;
  const dying = pod(a.metadata.name!, { rs: 'my-backend-5d8f7', ip: a.status!.podIP, deleting: true });
  const fresh = pod('my-backend-5d8f7-ddddd', { rs: 'my-backend-5d8f7', ip: '', phase: 'Pending', ready: false });
  const svcObj = objects.find((o) => o.kind === 'Service')!;
  let r = buildRoad(stateOf([...objects.filter((o) => o.kind !== 'Pod' && o.kind !== 'EndpointSlice'), dying, b, c, fresh, svcObj, slice('my-backend', [{ pod: dying, ready: false, terminating: true }, { pod: b }, { pod: c }])]), opts);
  t.is(node(r, `pod:default/${a.metadata.name}`)!.state, 'terminating');
  t.is(node(r, `pod:default/${a.metadata.name}`)!.tone, 'bad');
  t.is(edge(r, 'svc:default/my-backend', `pod:default/${a.metadata.name}`)!.state, 'terminating');
  t.is(edge(r, 'svc:default/my-backend', 'pod:default/my-backend-5d8f7-ddddd')!.state, 'candidate');
  t.is(node(r, 'pod:default/my-backend-5d8f7-ddddd')!.state, 'pending');
  // Once it has an IP and is listed not ready, the edge says why.
  const notReady = pod('my-backend-5d8f7-ddddd', { rs: 'my-backend-5d8f7', ip: '10.244.0.9', ready: false });
  r = buildRoad(stateOf([...objects.filter((o) => o.kind !== 'EndpointSlice' && o.kind !== 'Pod'), b, c, notReady, slice('my-backend', [{ pod: b }, { pod: c }, { pod: notReady, ready: false }])]), opts);
  const e = edge(r, 'svc:default/my-backend', 'pod:default/my-backend-5d8f7-ddddd')!;
  t.is(e.state, 'notready');
  t.regex(e.label!, /readiness probe \(HTTP GET :http\/ready every 2s\) has not passed yet/);
  t.false(r.nodes.some((n) => n.id === `pod:default/${a.metadata.name}`), 'the deleted Pod is gone');
});

test('NodePort, LoadBalancer and the Ingress in front', (t) => {
  const { objects, pods } = seed();
  const lb = service('my-backend-lb', { type: 'LoadBalancer', clusterIP: '10.96.0.21', selector: { app: 'my-backend' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP', nodePort: 30080 }] }, 'default', ['10.202.0.5']);
  const np = service('my-backend-nodeport', { type: 'NodePort', clusterIP: '10.96.0.22', selector: { app: 'my-backend' }, ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30007 }] });
  const ing = ingress('demo', [{ host: 'demo.kubelite.test', path: '/api', service: 'my-backend', port: 80 }, { host: 'demo.kubelite.test', path: '/', service: 'frontend', port: 80 }], ['demo.kubelite.test']);
  const r = buildRoad(stateOf([...objects, lb, np, ing, slice('my-backend-lb', pods.map((p) => ({ pod: p }))), slice('my-backend-nodeport', pods.map((p) => ({ pod: p })))]), opts);
  t.deepEqual(node(r, 'entry:default/my-backend-lb')!.lines.map((l) => l.text), [
    'ClusterIP 10.96.0.21:8080/TCP',
    'NodePort 192.0.2.2:30080/TCP',
    'LoadBalancer 10.202.0.5:8080/TCP',
    'DNS my-backend-lb.default.svc.cluster.local',
  ]);
  t.true(node(r, 'entry:default/my-backend-nodeport')!.lines.some((l) => l.text === 'NodePort 192.0.2.2:30007/TCP'));
  const ingNode = node(r, 'ing:default/demo')!;
  t.deepEqual(ingNode.lines.map((l) => l.text), ['https://demo.kubelite.test/api → my-backend:80', 'https://demo.kubelite.test/ → frontend:80']);
  t.truthy(edge(r, 'ing:default/demo', 'svc:default/my-backend'));
  // The Ingress names a Service that does not exist: drawn as missing, not silently dropped.
  t.is(node(r, 'svc:default/frontend')!.state, 'missing');
  // Three Services share the same Pods: one Pod node each, three edges into it.
  t.is(r.edges.filter((e) => e.to === `pod:default/${pods[0].metadata.name}`).length, 3);
});

test('ExternalName is a DNS alias to its target; headless shows per-Pod DNS names', (t) => {
  const { objects, pods } = seed();
  const stripe = service('stripe', { type: 'ExternalName', externalName: 'api.stripe.com' });
  const db = service('db', { clusterIP: 'None', selector: { app: 'my-backend' }, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
  const withHost = pod('web-0', { labels: { app: 'my-backend' }, ip: '10.244.0.30', hostname: 'web-0' });
  const sl = slice('db', [...pods.map((p) => ({ pod: p })), { pod: withHost }]);
  sl.endpoints[3].hostname = 'web-0';
  const r = buildRoad(stateOf([...objects, stripe, db, withHost, sl]), opts);
  t.deepEqual(node(r, 'entry:default/stripe')!.lines.map((l) => l.text), ['DNS stripe.default.svc.cluster.local', '→ CNAME api.stripe.com']);
  t.is(edge(r, 'svc:default/stripe', 'ext:api.stripe.com')!.state, 'alias');
  t.is(node(r, 'svc:default/stripe')!.tone, 'info');
  const dns = node(r, 'entry:default/db')!.lines.map((l) => l.text);
  t.is(node(r, 'entry:default/db')!.subtitle, 'DNS names (headless)');
  t.false(dns.some((l) => l.startsWith('ClusterIP')));
  t.true(dns.includes('10-244-0-5.db.default.svc.cluster.local → 10.244.0.5'));
  t.true(dns.includes('web-0.db.default.svc.cluster.local → 10.244.0.30'));
});

test('a Service with no Ready endpoint is red; a Pod behind no Service is still shown', (t) => {
  const lonely = pod('lonely', { labels: { app: 'nothing' }, ip: '10.244.0.50' });
  const down = service('down', { clusterIP: '10.96.0.40', selector: { app: 'gone' }, ports: [{ name: '', port: 80, protocol: 'TCP' }] });
  const r = buildRoad(stateOf([lonely, down]), opts);
  t.is(node(r, 'svc:default/down')!.state, 'noendpoints');
  t.is(node(r, 'svc:default/down')!.tone, 'bad');
  t.truthy(node(r, 'pod:default/lonely'));
  t.is(r.edges.filter((e) => e.to === 'pod:default/lonely').length, 0);
});

function scale(deployments: number, perDeployment: number) {
  const objects = [];
  for (let d = 0; d < deployments; d++) {
    const name = `app${d}`;
    const rs = replicaSet(`${name}-rs`, name, '2');
    const pods = Array.from({ length: perDeployment }, (_, i) => pod(`${name}-rs-${i}`, { labels: { app: name }, rs: rs.metadata.name, ip: `10.${d >> 8}.${d & 255}.${i + 1}` }));
    objects.push(deployment(name, perDeployment), rs, ...pods, service(name, { clusterIP: `10.96.${d >> 8}.${d & 255}`, selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }), slice(name, pods.map((p) => ({ pod: p }))));
  }
  return objects;
}

test('at scale Deployments are groups, collapsed by default; a click expands one', (t) => {
  const state = stateOf(scale(200, 5));
  const r = buildRoad(state, opts);
  t.is(r.stats.pods, 1000);
  t.is(r.stats.services, 200);
  t.is(r.nodes.filter((n) => n.kind === 'pod').length, 0);
  const g = node(r, 'grp:default/Deployment/app7')!;
  t.deepEqual(g.group, { key: 'default/Deployment/app7', collapsed: true });
  t.is(g.subtitle, 'Deployment · 5 Pods');
  t.is(g.lines[0].text, '5 ready');
  const e = edge(r, 'svc:default/app7', g.id)!;
  t.is(e.counterKeys.length, 5);
  t.deepEqual(e.counts, { ready: 5 });
  const open = buildRoad(state, { ...opts, collapsed: new Map([['default/Deployment/app7', false]]) });
  t.is(open.nodes.filter((n) => n.kind === 'pod').length, 5);
  t.truthy(edge(open, 'svc:default/app7', 'pod:default/app7-rs-3'));
  // A small namespace shows its Pods one by one.
  t.is(buildRoad(stateOf(seed().objects), opts).nodes.filter((n) => n.kind === 'group').length, 0);
});

test('a rolling update shows both revisions in the group', (t) => {
  const oldRs = replicaSet('web-old', 'web', '1');
  const newRs = replicaSet('web-new', 'web', '2');
  const pods = [pod('web-old-1', { labels: { app: 'web' }, rs: 'web-old' }), pod('web-new-1', { labels: { app: 'web' }, rs: 'web-new' }), pod('web-new-2', { labels: { app: 'web' }, rs: 'web-new', ready: false })];
  const r = buildRoad(stateOf([deployment('web'), oldRs, newRs, ...pods]), { ...opts, collapseAbove: 0 });
  const g = node(r, 'grp:default/Deployment/web')!;
  t.true(g.lines.some((l) => l.text === 'rev 2: 2 · rev 1: 1' && l.tone === 'info'));
  const expanded = buildRoad(stateOf([deployment('web'), oldRs, newRs, ...pods]), opts);
  t.regex(node(expanded, 'pod:default/web-new-1')!.lines[2].text, /ReplicaSet web-new \(rev 2\)/);
});

test('label filter and search keep whole roads', (t) => {
  const state = stateOf(scale(3, 2));
  const byLabel = buildRoad(state, { ...opts, labelFilter: (l) => l.app === 'app1' });
  t.deepEqual(byLabel.nodes.filter((n) => n.kind === 'service').map((n) => n.title), ['app1']);
  const bySearch = buildRoad(state, { ...opts, search: 'APP2-RS-1' });
  t.deepEqual(bySearch.nodes.filter((n) => n.kind === 'service').map((n) => n.title), ['app2']);
  t.true(node(bySearch, 'pod:default/app2-rs-1')!.highlight);
  t.falsy(node(bySearch, 'pod:default/app2-rs-0')!.highlight);
  t.is(buildRoad(state, { ...opts, search: 'nothing-like-this' }).nodes.length, 0);
});
