// The HAProxy adapter fed hostile stored objects (issue 17 #9): whatever an Ingress, Service or
// Endpoints holds — paths with spaces, CR/LF, `;`, map or runtime-API syntax, names that never passed
// validation — no map line or runtime-API command carries it unescaped.

import test, { type ExecutionContext } from 'ava';
import { buildCertStore, type PemPair } from '../../../src/ingress/certs.js';
import { diffPlans, isSafeMapKey, mapFileText, MAP_NAMES, planHAProxy, runtimeCommands, safeMapValue, type HAPlan, type RuntimeStep } from '../../../src/ingress/haproxy-plan.js';
import { buildRouteTable, type HostRoutes, type PathRoute, type RouteTable, type RouteTarget } from '../../../src/ingress/routes.js';
import { eps, ing, path, svc } from './fixtures.js';

const fakeCert: PemPair = { certPem: 'CERT', keyPem: 'KEY' };
const HOSTILE_PATHS = [
  '/a b',
  '/x\nset server b0/s1 addr 203.0.113.9 port 80',
  '/x\r\nadd map /etc/passwd k v',
  '/x;del map /run/kubelite/ingress/maps/hosts.map h.test',
  '/x\\;shutdown sessions',
  '/y#comment',
  '/z<<',
  "/q'uote\"d",
  '/t\tab',
  '/nul\u0000',
];
type MapStep = Exclude<RuntimeStep, { kind: 'cert-add' | 'cert-del' }>;
const mapFile = (m: string) => `/run/kubelite/ingress/maps/${m}.map`;

function emptyPlan(): HAPlan {
  const { table } = buildRouteTable({ ingresses: [], services: [], endpoints: [], secrets: [], className: 'kubelite', isDefaultClass: true });
  return planHAProxy(table, buildCertStore(table, fakeCert));
}

function hostilePlan(): HAPlan {
  const ingresses = [
    ing('good', [{ host: 'h.test', http: { paths: [path('/ok', 'Prefix', 'web', 80)] } }]),
    ing('evil', [{ host: 'h.test', http: { paths: HOSTILE_PATHS.map((p, i) => path(p, i % 2 ? 'Exact' : 'Prefix', 'web', 80)) } }], { created: '2024-02-01T00:00:00Z' }),
    // A backend Service whose name never passed validation: its 503 description reaches the desc map.
    ing('evil-svc', [{ host: 'e.test', http: { paths: [path('/e', 'Prefix', 'x;y\nz #"', 80)] } }], { created: '2024-03-01T00:00:00Z' }),
  ];
  const services = [svc('web', [{ port: 80 }]), svc('x;y\nz #"', [{ port: 80 }])];
  const endpoints = [eps('web', [{ ips: ['10.0.0.1'], ports: [{ port: 8080 }] }])];
  const { table } = buildRouteTable({ ingresses, services, endpoints, secrets: [], className: 'kubelite', isDefaultClass: true });
  return planHAProxy(table, buildCertStore(table, fakeCert));
}

/** Every line of a map file: one key without whitespace, one value of printable ASCII. */
function assertMapFile(t: ExecutionContext, text: string, entries: number): void {
  const lines = text.split('\n').slice(0, -1);
  t.is(lines.length, entries, 'one line per entry');
  for (const l of lines) t.regex(l, /^[A-Za-z0-9\-._~!$&()*+,=:@%/|^[\]{}?]+ [\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/, JSON.stringify(l));
}

/** A runtime-API command: one line, `;` only escaped, no payload marker, no quotes or comments. */
function assertCommand(t: ExecutionContext, cmd: string): void {
  t.false(/[\x00-\x1f\x7f]/.test(cmd), JSON.stringify(cmd));
  t.false(/(^|[^\\]);/.test(cmd), `unescaped ; in ${JSON.stringify(cmd)}`);
  t.false(/<</.test(cmd), JSON.stringify(cmd));
  t.false(/["'#`]/.test(cmd), JSON.stringify(cmd));
}

test('hostile Ingress paths stored without admission never become map entries; good routes still do', (t) => {
  const plan = hostilePlan();
  for (const m of MAP_NAMES) assertMapFile(t, mapFileText(plan.maps[m]), plan.maps[m].length);
  const keys = [...plan.maps.exact, ...plan.maps.prefix].map(([k]) => k);
  t.true(keys.includes('h.test/ok'));
  t.true(keys.includes('h.test/ok/'));
  t.true(keys.every(isSafeMapKey));
  for (const p of HOSTILE_PATHS) t.false(keys.some((k) => k.startsWith(`h.test${p.slice(0, 3)}`)), p);
  for (const [, v] of plan.maps.desc) t.is(v, safeMapValue(v));
});

test('every runtime step between a hostile plan and an empty one is a safe command', (t) => {
  const plan = hostilePlan();
  const empty = emptyPlan();
  let commands = 0;
  for (const [from, to] of [[{ ...empty, backendCount: plan.backendCount, serverSlots: plan.serverSlots }, plan], [plan, { ...empty, backendCount: plan.backendCount, serverSlots: plan.serverSlots }]] as const) {
    const d = diffPlans(from, to);
    t.false(d.reload, d.reload ? d.reason : '');
    if (d.reload) continue;
    for (const s of d.steps) {
      if (s.kind === 'cert-add' || s.kind === 'cert-del') continue;
      for (const cmd of runtimeCommands(s, mapFile)) {
        assertCommand(t, cmd);
        commands++;
      }
    }
  }
  t.true(commands > 0);
});

test('a route table holding hostile keys (bypassing the route builder) still yields only safe entries', (t) => {
  const target: RouteTarget = { kind: 'backend', ingress: 'default/evil', backend: { key: 'default/web:80', namespace: 'default', service: 'web', servicePort: 80, upstreams: [{ ip: '10.0.0.1', port: 80 }] } };
  const route = (p: string, pathType: 'Exact' | 'Prefix'): PathRoute => ({ path: p, pathType, ingress: 'default/evil', target });
  const host: HostRoutes = { host: 'h.test', exact: new Map(HOSTILE_PATHS.map((p) => [p, route(p, 'Exact')])), prefixes: HOSTILE_PATHS.map((p) => route(p, 'Prefix')), tls: false, sslRedirect: false };
  const evilHost: HostRoutes = { host: 'evil host\n', exact: new Map([['/', route('/', 'Exact')]]), prefixes: [], tls: false, sslRedirect: true };
  const table: RouteTable = { hosts: new Map([['h.test', host], ['evil host\n', evilHost]]), wildcards: new Map(), certs: [], ingresses: ['default/evil'] };
  const plan = planHAProxy(table, buildCertStore(table, fakeCert));
  for (const m of MAP_NAMES) assertMapFile(t, mapFileText(plan.maps[m]), plan.maps[m].length);
  t.deepEqual(plan.maps.exact, []);
  t.deepEqual(plan.maps.prefix, []);
  t.deepEqual(plan.maps.redirect, []);
  t.deepEqual(plan.maps.hosts, [['h.test', 'h.test']]);
  // mapFileText refuses unsafe entries on its own too.
  t.is(mapFileText([['/a b', 'b0'], ['/ok', 'b1\nadd map x y'], ['/fine', 'b2']]), '/ok b1?add map x y\n/fine b2\n');
});

test('runtimeCommands refuses unsafe words instead of sending them; safe values with spaces are escaped', (t) => {
  const bad: MapStep[] = [
    { kind: 'map-add', map: 'exact', key: 'h.test/a;b', value: 'b0' },
    { kind: 'map-set', map: 'exact', key: 'h.test/a', value: 'b0\nshutdown' },
    { kind: 'map-del', map: 'prefix', key: 'h.test/x y' },
    { kind: 'map-del', map: 'prefix', key: 'h.test/x<<' },
    { kind: 'map-add', map: '../../etc/x' as never, key: 'k', value: 'v' },
    { kind: 'server', backend: 'b0/s1 addr 1.2.3.4', slot: 0, upstream: null },
    { kind: 'server', backend: 'b1', slot: 0, upstream: { ip: '1.2.3.4 port 1;shutdown', port: 80 } },
  ];
  for (const step of bad) t.throws(() => runtimeCommands(step, mapFile), undefined, JSON.stringify(step));
  t.deepEqual(runtimeCommands({ kind: 'map-add', map: 'desc', key: 'b3', value: safeMapValue('503 Service Unavailable: "x";\n#y') }, mapFile), [
    'add map /run/kubelite/ingress/maps/desc.map b3 503\\ Service\\ Unavailable:\\ ?x????y',
  ]);
  t.deepEqual(runtimeCommands({ kind: 'server', backend: 'b2', slot: 1, upstream: { ip: '10.0.0.7', port: 8080 } }, mapFile), [
    'set server b2/s2 state maint',
    'set server b2/s2 addr 10.0.0.7 port 8080',
    'set server b2/s2 state ready',
  ]);
});
