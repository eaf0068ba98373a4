// Laying out the road: fixed columns, no two cards of a column overlap, cached parts, and 200
// Services with 1,000 Pods (grouped) in one go.

import test from 'ava';
import { buildRoad } from '../../../src/ui/model/road.js';
import { COLUMN_X, layoutRoad, LayoutCache, type Layout } from '../../../src/ui/web/layout.js';
import { T0, deployment, ingress, pod, replicaSet, seed, service, slice, stateOf } from './fixtures.js';

const opts = { now: T0, clusterDomain: 'cluster.local' };

function assertNoOverlap(t: import('ava').ExecutionContext, l: Layout) {
  const byX = new Map<number, { y: number; h: number }[]>();
  for (const p of l.nodes.values()) byX.set(p.x, [...(byX.get(p.x) ?? []), p]);
  for (const list of byX.values()) {
    list.sort((a, b) => a.y - b.y);
    for (let i = 1; i < list.length; i++) t.true(list[i].y >= list[i - 1].y + list[i - 1].h, `overlap at y=${list[i].y}`);
  }
}

test('columns: entry points, Services, Pods', (t) => {
  const { objects } = seed();
  const r = buildRoad(stateOf(objects), opts);
  const l = layoutRoad(r);
  t.is(l.nodes.get('entry:default/my-backend')!.x, COLUMN_X[0]);
  t.is(l.nodes.get('svc:default/my-backend')!.x, COLUMN_X[1]);
  for (const n of r.nodes.filter((x) => x.kind === 'pod')) t.is(l.nodes.get(n.id)!.x, COLUMN_X[2]);
  assertNoOverlap(t, l);
});

test('shared Pods and an Ingress: dagre orders them, the columns stay clean', (t) => {
  const { objects, pods } = seed();
  const extra = ['a', 'b', 'c'].map((n) => service(`s-${n}`, { clusterIP: `10.96.1.${n.charCodeAt(0)}`, selector: { app: 'my-backend' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
  const slices = extra.map((s) => slice(s.metadata.name!, pods.map((p) => ({ pod: p }))));
  const ing = ingress('demo', [{ host: 'x.test', path: '/', service: 's-a', port: 80 }, { host: 'x.test', path: '/b', service: 's-b', port: 80 }]);
  const r = buildRoad(stateOf([...objects, ...extra, ...slices, ing]), opts);
  const l = layoutRoad(r);
  t.is(l.nodes.size, r.nodes.length);
  assertNoOverlap(t, l);
  // The Ingress sits between the two Services it routes to.
  const y = (id: string) => l.nodes.get(id)!.y + l.nodes.get(id)!.h / 2;
  const ingY = y('ing:default/demo');
  t.true(ingY >= Math.min(y('svc:default/s-a'), y('svc:default/s-b')) - 1 && ingY <= Math.max(y('svc:default/s-a'), y('svc:default/s-b')) + 1);
});

test('1,000 Pods in 200 Deployments behind 200 Services, plus Pods behind none', (t) => {
  const objects = [];
  for (let d = 0; d < 200; d++) {
    const name = `app${d}`;
    const rs = replicaSet(`${name}-rs`, name, '1');
    const pods = Array.from({ length: 5 }, (_, i) => pod(`${name}-rs-${i}`, { labels: { app: name }, rs: rs.metadata.name, ip: `10.1.${d}.${i + 1}` }));
    objects.push(deployment(name, 5), rs, ...pods, service(name, { clusterIP: `10.96.2.${d}`, selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }), slice(name, pods.map((p) => ({ pod: p }))));
  }
  objects.push(pod('stray-1', { labels: {} }), pod('stray-2', { labels: {} }));
  const r = buildRoad(stateOf(objects), opts);
  const cache = new LayoutCache();
  const l = layoutRoad(r, cache);
  t.is(l.nodes.size, r.nodes.length);
  t.truthy(l.loneTop);
  assertNoOverlap(t, l);
  // Unchanged parts come from the cache: the same positions.
  const again = layoutRoad(r, cache);
  t.deepEqual([...again.nodes.entries()], [...l.nodes.entries()]);
});
